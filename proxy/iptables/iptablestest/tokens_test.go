package iptablestest

import (
	"slices"
	"testing"
)

func TestTokenize(t *testing.T) {
	cases := []struct {
		line string
		want []token
	}{
		{"-A  C\t-j X ", []token{{"-A", false}, {"C", false}, {"-j", false}, {"X", false}}},
		{`--comment "a b" -j X`, []token{{"--comment", false}, {"a b", true}, {"-j", false}, {"X", false}}},
		{`--comment "say \"hi\"" x`, []token{{"--comment", false}, {`say "hi"`, true}, {"x", false}}},
		{`--comment "back\\slash"`, []token{{"--comment", false}, {`back\slash`, true}}},
		{`--comment ""`, []token{{"--comment", false}, {"", true}}},
		{`--comment "-looks-like-a-flag"`, []token{{"--comment", false}, {"-looks-like-a-flag", true}}},
		{`a"b c"d`, []token{{"ab cd", true}}},
	}
	for _, c := range cases {
		got, err := tokenize(c.line, nil)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("tokenize(%q) = %v, %v; want %v", c.line, got, err, c.want)
		}
	}
	if _, err := tokenize(`--comment "open`, nil); err == nil {
		t.Error("an unterminated quote was accepted")
	}
}

func TestSaveQuote(t *testing.T) {
	cases := map[string]string{
		"plain_word-1": "plain_word-1",
		"ns/svc:port":  `"ns/svc:port"`,
		"a b":          `"a b"`,
		`q"b\c'd`:      `"q\"b\\c\'d"`,
		"":             `""`,
	}
	for in, want := range cases {
		if got := string(saveQuote(nil, in)); got != want {
			t.Errorf("saveQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
