# Shell functions for the guest scripts of e2e/ipvs (dash and busybox).
# The test prepends variable assignments and appends calls; see guest_test.go.
# Everything the host asserts on is printed as a "KPROXY-RESULT " line.
set -u

KPROXY_LOG=/tmp/kproxy.log
KPROXY_PID=
# fd 3 is the script's output, also for functions whose output wait_until hides.
exec 3>&1

# result prints one line for the host.
result() { echo "KPROXY-RESULT $*"; }

# die reports a failure with kproxy's latest log lines and ends the script.
die() {
	{
		result "fail $*"
		echo "--- kproxy log (tail)"
		tail -n 60 "$KPROXY_LOG"
		echo "--- ipvsadm -Ln"
		ipvsadm -Ln
	} >&3 2>&1
	exit 1
}

# section NAME COMMAND...: the command's output between two marker lines,
# for the host's test log.
section() {
	name=$1
	shift
	result "section $name begin"
	"$@" 2>&1
	result "section $name end"
}

# wait_until SECONDS WHAT COMMAND...: runs the command every 0.2 s until it
# succeeds; dies after SECONDS.
wait_until() {
	limit=$(($1 * 5)) what=$2
	shift 2
	n=0
	until "$@" >/dev/null 2>&1; do
		n=$((n + 1))
		[ "$n" -lt "$limit" ] || die "timed out waiting for $what"
		sleep 0.2
	done
}

# add_ns NAME ADDR GATEWAY: a network namespace whose eth0 has ADDR/32 and
# reaches the guest's root namespace through the veth "v-NAME". The root
# side of every such veth carries GATEWAY/32, the namespace's default route.
add_ns() {
	ip netns add "$1"
	ip link add "v-$1" type veth peer name eth0 netns "$1"
	ip addr add "$3/32" dev "v-$1"
	ip link set "v-$1" up
	ip route add "$2/32" dev "v-$1"
	ip -n "$1" link set lo up
	ip -n "$1" addr add "$2/32" dev eth0
	ip -n "$1" link set eth0 up
	ip -n "$1" route add "$3" dev eth0
	ip -n "$1" route add default via "$3"
}

# add_pod NAME ADDR GATEWAY: a pod namespace running the echo server on TCP 8080.
add_pod() {
	add_ns "$1" "$2" "$3"
	ip netns exec "$1" kpecho serve --name "$1" --tcp :8080 --udp "" --http "" >"/tmp/pod-$1.log" 2>&1 &
	wait_until 30 "pod $1 serving" kpecho client --tcp "$2:8080" --timeout 2s
}

# start_kproxy SCHEDULER [FLAG...]: kproxy in ipvs mode, logging to $KPROXY_LOG.
start_kproxy() {
	sched=$1
	shift
	echo "=== kproxy --ipvs-scheduler=$sched $*" >>"$KPROXY_LOG"
	kproxy --proxy-mode=ipvs --ipvs-scheduler="$sched" \
		--kubeconfig /etc/kproxy/kubeconfig --hostname-override "$NODE_NAME" \
		--cluster-cidr "$CLUSTER_CIDR" --metrics-bind-address 127.0.0.1:10249 \
		--conntrack-max-per-core 0 -v=2 "$@" >>"$KPROXY_LOG" 2>&1 &
	KPROXY_PID=$!
	wait_until 60 "kproxy's metrics server" kproxy_serving
}

# kproxy_serving: kproxy answers on its metrics port; dies when kproxy exited.
kproxy_serving() {
	kill -0 "$KPROXY_PID" 2>/dev/null || die "kproxy exited"
	wget -q -O /dev/null http://127.0.0.1:10249/metrics
}

# stop_kproxy ends kproxy (SIGTERM) and waits for it; its rules stay, as
# kube-proxy's do.
stop_kproxy() {
	kill "$KPROXY_PID"
	wait "$KPROXY_PID"
	KPROXY_PID=
}

# state_has TEXT: kproxy's /debug/state contains TEXT.
state_has() {
	wget -q -O - http://127.0.0.1:10249/debug/state | grep -qF -- "$1"
}

# vs_ready VIP:PORT SCHEDULER REALSERVERS: the kernel holds the virtual server
# with this scheduler and exactly that many real servers of weight 1.
vs_ready() {
	out=$(ipvsadm -Ln -t "$1") || return 1
	echo "$out" | grep -q "^TCP  $1 $2" || return 1
	[ "$(echo "$out" | grep -c -- '-> .* Masq *1 ')" -eq "$3" ]
}

# wait_vs VIP:PORT SCHEDULER REALSERVERS [SECONDS]: waits for vs_ready.
wait_vs() {
	wait_until "${4:-60}" "virtual server $1 ($2, $3 real servers)" vs_ready "$1" "$2" "$3"
}

# vs_weight VIP:PORT REAL:PORT WEIGHT: the real server has that weight.
vs_weight() {
	ipvsadm -Ln -t "$1" | grep -q -- "-> $2 *Masq *$3 "
}

# vs_lacks VIP:PORT REAL:PORT: the virtual server has no such real server.
vs_lacks() {
	ipvsadm -Ln -t "$1" >/tmp/vs.out && ! grep -q -- "-> $2 " /tmp/vs.out
}

# probe LABEL NETNS ADDR COUNT: COUNT connections, one after the other, from
# NETNS to ADDR; prints the tally (JSON) of who answered.
probe() {
	out=$(ip netns exec "$2" kpecho client --tcp "$3" -n "$4" --parallel 1 --timeout 5s --json) ||
		die "probe $1: $out"
	result "probe $1 $out"
}

# hold NAME NETNS ADDR: one connection from NETNS to ADDR, kept open in the
# background; prints "held NAME <pod>".
hold() {
	ip netns exec "$2" kpguest hold "$3" >"/tmp/hold-$1" 2>&1 &
	echo $! >"/tmp/hold-$1.pid"
	wait_until 30 "held connection $1" grep -q '^held ' "/tmp/hold-$1"
	result "held $1 $(sed -n 's/^held //p' "/tmp/hold-$1")"
}

# held_pod NAME: the pod that answered the held connection NAME.
held_pod() { sed -n 's/^held //p' "/tmp/hold-$1"; }

# ping_held NAME: sends a line on the held connection; prints "echo NAME <reply>".
ping_held() {
	kill -USR1 "$(cat "/tmp/hold-$1.pid")"
	wait_until 30 "reply on held connection $1" grep -q '^echo' "/tmp/hold-$1"
	result "$(grep '^echo' "/tmp/hold-$1" | tail -n 1 | sed "s/^\(echo[a-z-]*\) /\1 $1 /")"
}

# release NAME closes the held connection.
release() {
	kill "$(cat "/tmp/hold-$1.pid")"
}

# last_synced prints kproxy's latest "Synced" log line of the IPv4 backend
# (the guest runs an IPv6 one too, which has no services).
last_synced() {
	grep '"Synced" family="IPv4"' "$KPROXY_LOG" | tail -n 1
}

# uptime_ms is the guest's uptime in milliseconds.
uptime_ms() {
	read -r up _ </proc/uptime
	frac=${up#*.}
	echo $((${up%.*} * 1000 + 10 * (1$frac - 100)))
}

# vs_has VIP:PORT REAL:PORT: the virtual server has that real server.
vs_has() {
	ipvsadm -Ln -t "$1" | grep -q -- "-> $2 "
}

# sync_metric prints the sum and count of kproxy's sync duration histogram
# for IPv4.
sync_metric() {
	wget -q -O - http://127.0.0.1:10249/metrics |
		awk '/^kubeproxy_sync_proxy_rules_duration_seconds_(sum|count)\{ip_family="IPv4"\}/ { printf "%s ", $2 }'
}

# vs_count prints how many TCP virtual servers the kernel holds.
vs_count() {
	grep -c '^TCP' /proc/net/ip_vs
}

# rs_count prints how many real servers the kernel holds.
rs_count() {
	grep -c '^  -> [0-9A-F]' /proc/net/ip_vs
}

# counts_at_least VS RS: the kernel holds at least that many virtual and real
# servers.
counts_at_least() {
	[ "$(vs_count)" -ge "$1" ] && [ "$(rs_count)" -ge "$2" ]
}

# synced_count prints how many IPv4 syncs kproxy has logged.
synced_count() {
	grep -c '"Synced" family="IPv4"' "$KPROXY_LOG"
}

# restart_kproxy SCHEDULER [FLAG...]: restarts kproxy and samples the number
# of virtual and real servers until its first IPv4 sync is done; prints
# "restart-counts <virtual before> <fewest seen> <real before> <fewest seen>",
# then waits until the kernel holds as many as before again and prints how
# long after the start that was ("restart-complete-ms").
restart_kproxy() {
	vs_before=$(vs_count) rs_before=$(rs_count)
	stop_kproxy
	n0=$(synced_count)
	t_start=$(uptime_ms)
	start_kproxy "$@"
	vs_fewest=$vs_before rs_fewest=$rs_before
	n=0
	while :; do
		done_syncing=$(($(synced_count) > n0))
		c=$(vs_count)
		[ "$c" -ge "$vs_fewest" ] || vs_fewest=$c
		c=$(rs_count)
		[ "$c" -ge "$rs_fewest" ] || rs_fewest=$c
		[ "$done_syncing" -eq 0 ] || break
		n=$((n + 1))
		[ "$n" -lt 3000 ] || die "timed out waiting for kproxy's first sync after the restart"
		sleep 0.2
	done
	result "restart-counts $vs_before $vs_fewest $rs_before $rs_fewest"
	result "restart-synced $(grep '"Synced" family="IPv4"' "$KPROXY_LOG" | sed -n "$((n0 + 1))p")"
	wait_until 600 "as many virtual and real servers as before the restart" counts_at_least "$vs_before" "$rs_before"
	result "restart-complete-ms $(($(uptime_ms) - t_start))"
}
