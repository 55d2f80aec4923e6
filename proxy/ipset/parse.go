package ipset

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ParseSave parses "ipset save" output. Sets of types this package does not know
// are returned without entries; entries are canonical and sorted.
func ParseSave(out []byte) ([]Contents, error) {
	byName := map[string]*Contents{}
	var order []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		switch fields[0] {
		case "create":
			set, err := parseCreate(fields)
			if err != nil {
				return nil, fmt.Errorf("ipset save line %d: %w", n, err)
			}
			byName[set.Name] = &Contents{Set: set}
			order = append(order, set.Name)
		case "add":
			if err := parseAdd(fields, byName); err != nil {
				return nil, fmt.Errorf("ipset save line %d: %w", n, err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	slices.Sort(order)
	sets := make([]Contents, 0, len(order))
	for _, name := range order {
		c := byName[name]
		slices.Sort(c.Entries)
		sets = append(sets, *c)
	}
	return sets, nil
}

// parseCreate parses "create NAME TYPE [option value]...".
func parseCreate(fields []string) (Set, error) {
	if len(fields) < 3 {
		return Set{}, fmt.Errorf("short create line")
	}
	s := Set{Name: fields[1], Type: Type(fields[2])}
	for i := 3; i+1 < len(fields); i++ {
		switch fields[i] {
		case "family":
			s.Family = Family(fields[i+1])
		case "hashsize":
			s.HashSize, _ = strconv.Atoi(fields[i+1])
		case "maxelem":
			s.MaxElem, _ = strconv.Atoi(fields[i+1])
		default:
			continue
		}
		i++
	}
	return s.Normalize(), nil
}

// parseAdd parses "add NAME ENTRY [option value]..." into the named set.
func parseAdd(fields []string, sets map[string]*Contents) error {
	if len(fields) < 3 {
		return fmt.Errorf("short add line")
	}
	c := sets[fields[1]]
	if c == nil {
		return fmt.Errorf("entry of set %s before its create line", fields[1])
	}
	if c.Type.dims() == nil {
		return nil
	}
	entry, err := Canonical(c.Type, c.Family, fields[2])
	if err != nil {
		return err
	}
	c.Entries = append(c.Entries, entry)
	return nil
}

// ParseVersion extracts the version number from "ipset version" output, such as
// "ipset v7.19, protocol version: 7".
func ParseVersion(out string) (string, error) {
	for _, f := range strings.Fields(out) {
		if v, ok := strings.CutPrefix(f, "v"); ok && v != "" && v[0] >= '0' && v[0] <= '9' {
			return strings.TrimRight(v, ","), nil
		}
	}
	return "", fmt.Errorf("ipset: no version in %q", strings.TrimSpace(out))
}

// CheckVersion returns an error when version is older than MinVersion or cannot
// be read.
func CheckVersion(version string) error {
	have, err := versionNumbers(version)
	if err != nil {
		return err
	}
	want, _ := versionNumbers(MinVersion)
	if slices.Compare(have, want) < 0 {
		return fmt.Errorf("ipset: version %s is older than the required %s", version, MinVersion)
	}
	return nil
}

// versionNumbers splits "7.19" or "6.38.1" into its numbers.
func versionNumbers(v string) ([]int, error) {
	var nums []int
	for _, p := range strings.Split(v, ".") {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("ipset: cannot read version %q", v)
		}
		nums = append(nums, n)
	}
	return nums, nil
}
