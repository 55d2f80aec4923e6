# kproxy image: a static Go binary on Debian slim with the tools kube-proxy's image has.
# kubeadm's DaemonSet runs "/usr/local/bin/kube-proxy --config=... --hostname-override=..."
# unchanged: kube-proxy is a link to kproxy.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY proxy ./proxy
COPY endpoints ./endpoints
COPY modes ./modes
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/kproxy ./cmd/kproxy

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends iptables ipset conntrack iproute2 kmod \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/kproxy /usr/local/bin/kproxy
RUN ln -s kproxy /usr/local/bin/kube-proxy
ENTRYPOINT ["/usr/local/bin/kproxy"]
