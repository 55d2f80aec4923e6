package endpoints

import (
	"slices"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
)

func TestMerge(t *testing.T) {
	http := PortKey{Name: "http", Protocol: v1.ProtocolTCP}
	tests := []struct {
		name         string
		slices       []*discovery.EndpointSlice
		wantV4       []string
		wantV6       []string
		wantProblems []string
	}{
		{
			name: "two slices merge sorted",
			slices: []*discovery.EndpointSlice{
				testSlice("a", discovery.AddressTypeIPv4, withEndpoint("10.0.0.3", "n1", "rs")),
				testSlice("b", discovery.AddressTypeIPv4, withEndpoint("10.0.0.1", "n2", "rs"), withEndpoint("10.0.0.2", "n2", "rs")),
			},
			wantV4: []string{"10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080"},
		},
		{
			name: "duplicate across slices kept once",
			slices: []*discovery.EndpointSlice{
				testSlice("a", discovery.AddressTypeIPv4, withEndpoint("10.0.0.1", "n1", "")),
				testSlice("b", discovery.AddressTypeIPv4, withEndpoint("10.0.0.1", "n1", "rs")),
			},
			wantV4: []string{"10.0.0.1:8080"},
		},
		{
			name: "families kept apart, FQDN ignored",
			slices: []*discovery.EndpointSlice{
				testSlice("a", discovery.AddressTypeIPv4, withEndpoint("10.0.0.1", "", "rs")),
				testSlice("b", discovery.AddressTypeIPv6, withEndpoint("fd00::1", "", "rs")),
				testSlice("c", discovery.AddressTypeFQDN, withEndpoint("example.com", "", "rs")),
			},
			wantV4: []string{"10.0.0.1:8080"},
			wantV6: []string{"[fd00::1]:8080"},
		},
		{
			name: "bad and wrong-family addresses left out",
			slices: []*discovery.EndpointSlice{
				testSlice("a", discovery.AddressTypeIPv4,
					withEndpoint("10.0.0.1", "", "rs"), withEndpoint("fd00::1", "", "rs"), withEndpoint("not-an-ip", "", "rs")),
			},
			wantV4:       []string{"10.0.0.1:8080"},
			wantProblems: []string{"fd00::1 is not IPv4", `"not-an-ip" is not an IP`},
		},
		{
			name: "port out of range and unknown protocol left out",
			slices: []*discovery.EndpointSlice{
				testSlice("a", discovery.AddressTypeIPv4, withEndpoint("10.0.0.1", "", "rs"), func(s *discovery.EndpointSlice) {
					s.Ports = append(s.Ports,
						discovery.EndpointPort{Name: ptr("big"), Port: ptr(int32(70000))},
						discovery.EndpointPort{Name: ptr("odd"), Port: ptr(int32(53)), Protocol: ptr(v1.Protocol("ICMP"))})
				}),
			},
			wantV4:       []string{"10.0.0.1:8080"},
			wantProblems: []string{"out of range", "unknown protocol"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			merged, problems := Merge(tt.slices, "n1")
			if got := addrs(merged[v1.IPv4Protocol][http]); !slices.Equal(got, orEmpty(tt.wantV4)) {
				t.Errorf("IPv4 endpoints = %v, want %v", got, tt.wantV4)
			}
			if got := addrs(merged[v1.IPv6Protocol][http]); !slices.Equal(got, orEmpty(tt.wantV6)) {
				t.Errorf("IPv6 endpoints = %v, want %v", got, tt.wantV6)
			}
			if len(problems) != len(tt.wantProblems) {
				t.Fatalf("problems = %q, want %d matching %q", problems, len(tt.wantProblems), tt.wantProblems)
			}
			for _, want := range tt.wantProblems {
				if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, want) }) {
					t.Errorf("problems %q lack %q", problems, want)
				}
			}
		})
	}
}

func TestMergeKeepsBestConditionsAndLocality(t *testing.T) {
	merged, _ := Merge([]*discovery.EndpointSlice{
		testSlice("a", discovery.AddressTypeIPv4, withEndpoint("10.0.0.1", "n1", "t")),
		testSlice("b", discovery.AddressTypeIPv4, withEndpoint("10.0.0.1", "n1", "rs", "zone-a")),
	}, "n1")
	got := merged[v1.IPv4Protocol][PortKey{Name: "http", Protocol: v1.ProtocolTCP}]
	want := ep("10.0.0.1", "rsl", "zone-a")
	want.NodeName = "n1"
	if len(got) != 1 || !got[0].equal(want) {
		t.Fatalf("merged = %+v, want %+v", got, want)
	}
}

// orEmpty turns nil into an empty list for comparisons.
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
