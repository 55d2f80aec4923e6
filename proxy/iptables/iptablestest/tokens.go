package iptablestest

import (
	"fmt"
	"strings"
)

// token is one word of a restore line.
type token struct {
	s      string
	quoted bool // written with quotes: always a value, never a flag
}

// tokenize splits line into words the way iptables-restore does: blanks
// separate words, double quotes group them, a backslash escapes the next
// character. Words without escapes are substrings of line. toks is reused.
func tokenize(line string, toks []token) ([]token, error) {
	toks = toks[:0]
	if strings.IndexByte(line, '"') < 0 && strings.IndexByte(line, '\\') < 0 {
		return splitBlanks(line, toks), nil
	}
	i := 0
	for {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i >= len(line) {
			return toks, nil
		}
		start, quoted, escaped, inQuote := i, false, false, false
		for ; i < len(line); i++ {
			c := line[i]
			if c == '\\' {
				escaped = true
				i++
				continue
			}
			if c == '"' {
				quoted, inQuote = true, !inQuote
				continue
			}
			if !inQuote && (c == ' ' || c == '\t') {
				break
			}
		}
		if inQuote {
			return toks, fmt.Errorf("unterminated quote")
		}
		word := line[start:i]
		switch {
		case escaped:
			word = unescape(word)
		case quoted && len(word) >= 2 && word[0] == '"' && word[len(word)-1] == '"' && strings.IndexByte(word[1:len(word)-1], '"') < 0:
			word = word[1 : len(word)-1]
		case quoted:
			word = strings.ReplaceAll(word, `"`, "")
		}
		toks = append(toks, token{s: word, quoted: quoted})
	}
}

// splitBlanks splits a line without quotes or escapes.
func splitBlanks(line string, toks []token) []token {
	for {
		for len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			line = line[1:]
		}
		if line == "" {
			return toks
		}
		i := 0
		for i < len(line) && line[i] != ' ' && line[i] != '\t' {
			i++
		}
		toks = append(toks, token{s: line[:i]})
		line = line[i:]
	}
}

// unescape drops quotes and the backslashes that escape characters.
func unescape(w string) string {
	var b strings.Builder
	b.Grow(len(w))
	for i := 0; i < len(w); i++ {
		switch w[i] {
		case '"':
		case '\\':
			if i+1 < len(w) {
				i++
				b.WriteByte(w[i])
			}
		default:
			b.WriteByte(w[i])
		}
	}
	return b.String()
}

// saveQuote appends v the way iptables-save prints comments and log
// prefixes: bare when it is only letters, digits, '_' and '-', otherwise in
// double quotes, escaping double quotes, backslashes and single quotes.
func saveQuote(b []byte, v string) []byte {
	if v != "" && bareWord(v) {
		return append(b, v...)
	}
	b = append(b, '"')
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '"' || c == '\\' || c == '\'' {
			b = append(b, '\\')
		}
		b = append(b, v[i])
	}
	return append(b, '"')
}

func bareWord(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// needsQuote reports whether a value printed plainly would not read back as
// one word.
func needsQuote(v string) bool {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case ' ', '\t', '"', '\\', '\'':
			return true
		}
	}
	return v == ""
}
