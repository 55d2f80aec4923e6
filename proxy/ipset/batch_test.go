package ipset

import "testing"

func TestBatchString(t *testing.T) {
	var b Batch
	b.Create(Set{Name: "A", Type: HashIPPort, Family: Inet6, MaxElem: 1000})
	b.Create(Set{Name: "P", Type: BitmapPort, Family: Inet})
	b.Add("A", "fd00::1,tcp:80")
	b.Del("P", "30080")
	b.Flush("A")
	b.Destroy("P")
	want := `create A hash:ip,port family inet6 hashsize 1024 maxelem 1000
create P bitmap:port range 0-65535
add A fd00::1,tcp:80
del P 30080
flush A
destroy P
`
	if got := b.String(); got != want {
		t.Errorf("String:\n%s\nwant:\n%s", got, want)
	}
	if b.Len() != 6 || b.Empty() {
		t.Errorf("Len = %d, Empty = %v", b.Len(), b.Empty())
	}
	b.Reset()
	if !b.Empty() || b.String() != "" {
		t.Errorf("after Reset: %q", b.String())
	}
}
