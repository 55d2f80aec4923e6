package fuzzcorpus

// Source hands out choices read from fuzzer bytes. Once the bytes run out every
// choice is 0, so any input, even an empty one, makes a finite, valid program.
type Source struct {
	data []byte
	pos  int
}

// NewSource returns a Source reading data.
func NewSource(data []byte) *Source { return &Source{data: data} }

// Byte returns the next byte, 0 past the end.
func (s *Source) Byte() byte {
	if s.pos >= len(s.data) {
		return 0
	}
	b := s.data[s.pos]
	s.pos++
	return b
}

// Done reports whether every byte was used.
func (s *Source) Done() bool { return s.pos >= len(s.data) }

// Intn returns a number in [0, n); n must be positive. It reads one byte for
// n ≤ 256, two otherwise (so results stay below 65536).
func (s *Source) Intn(n int) int {
	if n <= 256 {
		return int(s.Byte()) % n
	}
	return (int(s.Byte())<<8 | int(s.Byte())) % n
}

// OneIn returns true with a chance of about 1 in n.
func (s *Source) OneIn(n int) bool { return s.Intn(n) == 0 }

// Int32 returns any int32, read from four bytes.
func (s *Source) Int32() int32 {
	var v uint32
	for range 4 {
		v = v<<8 | uint32(s.Byte())
	}
	return int32(v)
}

// Raw returns a string of up to max bytes taken as they are from the input.
func (s *Source) Raw(max int) string {
	n := s.Intn(max + 1)
	end := min(s.pos+n, len(s.data))
	if s.pos >= end {
		return ""
	}
	out := string(s.data[s.pos:end])
	s.pos = end
	return out
}

// Pick returns one of items.
func Pick[T any](s *Source, items ...T) T { return items[s.Intn(len(items))] }
