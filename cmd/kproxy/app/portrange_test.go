package app

import "testing"

func TestParsePortRange(t *testing.T) {
	tests := []struct {
		in      string
		want    PortRange
		wantErr bool
	}{
		{"", PortRange{}, false},
		{"  ", PortRange{}, false},
		{"0", PortRange{Base: 0, Size: 1}, false},
		{"0-0", PortRange{Base: 0, Size: 1}, false},
		{"30000", PortRange{Base: 30000, Size: 1}, false},
		{"30000-30100", PortRange{Base: 30000, Size: 101}, false},
		{"30000+100", PortRange{Base: 30000, Size: 101}, false},
		{"30000+0", PortRange{Base: 30000, Size: 1}, false},
		{"1-65535", PortRange{Base: 1, Size: 65535}, false},
		{"30100-30000", PortRange{}, true},
		{"65535+1", PortRange{}, true},
		{"1-65536", PortRange{}, true},
		{"a-b", PortRange{}, true},
		{"30000-", PortRange{}, true},
		{"-30000", PortRange{}, true},
		{"+5", PortRange{}, true},
		{"1-2-3", PortRange{}, true},
		{"1+-2", PortRange{}, true},
		{"99999999999", PortRange{}, true},
	}
	for _, tt := range tests {
		got, err := ParsePortRange(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParsePortRange(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestPortRangeString(t *testing.T) {
	for _, tt := range []struct {
		pr   PortRange
		want string
		any  bool
	}{
		{PortRange{}, "", true},
		{PortRange{Base: 30000, Size: 101}, "30000-30100", false},
		{PortRange{Base: 0, Size: 1}, "0-0", true},
	} {
		if got := tt.pr.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.pr, got, tt.want)
		}
		if got := tt.pr.Any(); got != tt.any {
			t.Errorf("%+v.Any() = %v, want %v", tt.pr, got, tt.any)
		}
	}
}
