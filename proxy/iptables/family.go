package iptables

// Family is the IP family a Restorer, a Payload or a fake works with.
type Family uint8

const (
	// IPv4 selects iptables and IPv4 addresses.
	IPv4 Family = 4
	// IPv6 selects ip6tables and IPv6 addresses.
	IPv6 Family = 6
)

// String returns "IPv4" or "IPv6".
func (f Family) String() string {
	switch f {
	case IPv4:
		return "IPv4"
	case IPv6:
		return "IPv6"
	}
	return "Family(?)"
}

// Table names an iptables table.
type Table string

const (
	// TableFilter is the filter table.
	TableFilter Table = "filter"
	// TableNAT is the nat table.
	TableNAT Table = "nat"
	// TableMangle is the mangle table.
	TableMangle Table = "mangle"
	// TableRaw is the raw table.
	TableRaw Table = "raw"
	// TableSecurity is the security table.
	TableSecurity Table = "security"
)

// Built-in chain names.
const (
	ChainPrerouting  = "PREROUTING"
	ChainInput       = "INPUT"
	ChainForward     = "FORWARD"
	ChainOutput      = "OUTPUT"
	ChainPostrouting = "POSTROUTING"
)

// MaxChainNameLen is the longest chain name the kernel accepts.
const MaxChainNameLen = 28

// Tables returns every table kproxy knows, in the order a Payload writes them.
func Tables() []Table {
	return []Table{TableFilter, TableNAT, TableMangle, TableRaw, TableSecurity}
}

// tableIndex maps a table to its position in Tables, or -1.
func tableIndex(t Table) int {
	switch t {
	case TableFilter:
		return 0
	case TableNAT:
		return 1
	case TableMangle:
		return 2
	case TableRaw:
		return 3
	case TableSecurity:
		return 4
	}
	return -1
}

const numTables = 5

// Valid reports whether t is a table iptables knows.
func (t Table) Valid() bool { return tableIndex(t) >= 0 }

// BuiltinChains returns the built-in chains of t in hook order, or nil for
// an unknown table.
func BuiltinChains(t Table) []string {
	switch t {
	case TableFilter, TableSecurity:
		return []string{ChainInput, ChainForward, ChainOutput}
	case TableNAT:
		return []string{ChainPrerouting, ChainInput, ChainOutput, ChainPostrouting}
	case TableMangle:
		return []string{ChainPrerouting, ChainInput, ChainForward, ChainOutput, ChainPostrouting}
	case TableRaw:
		return []string{ChainPrerouting, ChainOutput}
	}
	return nil
}
