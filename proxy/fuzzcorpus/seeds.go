package fuzzcorpus

import "math/rand/v2"

// seedCount is how many pseudo-random inputs Seeds adds to the hand-made ones.
const seedCount = 48

// Seeds returns the seed corpus: an empty input (the anchor alone), a few byte
// patterns, and pseudo-random inputs of growing length made from fixed seeds, so
// that every run, and `go test` without -fuzz, plays the same programs.
func Seeds() [][]byte {
	seeds := [][]byte{
		{},
		{0},
		pattern(512, func(i int) byte { return 0xff }),
		pattern(1024, func(i int) byte { return byte(i) }),
		pattern(1024, func(i int) byte { return byte(i * 7 / 3) }),
	}
	rng := rand.New(rand.NewPCG(2024, 7))
	for i := range seedCount {
		b := make([]byte, 64+i*64)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		seeds = append(seeds, b)
	}
	return seeds
}

// pattern returns n bytes given by at.
func pattern(n int, at func(int) byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = at(i)
	}
	return b
}
