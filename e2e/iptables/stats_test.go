package iptablese2e

import (
	"math"
	"testing"
)

// chiSquareUniform tests observed counts against equal expected counts and
// returns the chi-square statistic and its p-value. The p-value is exact
// for 3 categories (2 degrees of freedom: p = exp(-chi2/2)), the only case
// the suite uses; other sizes return p = NaN.
func chiSquareUniform(counts []int) (chi2, p float64) {
	total := 0
	for _, c := range counts {
		total += c
	}
	want := float64(total) / float64(len(counts))
	for _, c := range counts {
		d := float64(c) - want
		chi2 += d * d / want
	}
	if len(counts) != 3 {
		return chi2, math.NaN()
	}
	return chi2, math.Exp(-chi2 / 2)
}

// TestChiSquareUniform runs without root.
func TestChiSquareUniform(t *testing.T) {
	for _, tc := range []struct {
		counts     []int
		chi2, p    float64
		acceptable bool
	}{
		{[]int{200, 200, 200}, 0, 1, true},
		{[]int{210, 195, 195}, 0.75, 0.6873, true},
		{[]int{240, 180, 180}, 12, 0.00248, true},
		{[]int{300, 150, 150}, 75, 5.2e-17, false},
		{[]int{600, 0, 0}, 1200, 0, false},
	} {
		chi2, p := chiSquareUniform(tc.counts)
		if math.Abs(chi2-tc.chi2) > 1e-9 || math.Abs(p-tc.p) > 1e-4 || (p > minP) != tc.acceptable {
			t.Errorf("%v: chi2 %v p %v, want %v %v (acceptable %v)", tc.counts, chi2, p, tc.chi2, tc.p, tc.acceptable)
		}
	}
}
