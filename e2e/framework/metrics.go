package framework

import (
	"strconv"
	"strings"
)

// MetricValue finds a sample in Prometheus text exposition: the first line
// whose metric name is name and whose labels include every pair of labels.
// It reports false when there is none.
func MetricValue(text, name string, labels map[string]string) (float64, bool) {
	for _, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		series, value, ok := cutValue(line)
		if !ok {
			continue
		}
		metric, set, _ := strings.Cut(series, "{")
		if metric != name || !hasLabels(strings.TrimSuffix(set, "}"), labels) {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		return v, true
	}
	return 0, false
}

// cutValue splits a sample line into its series and value, dropping an
// optional timestamp.
func cutValue(line string) (series, value string, ok bool) {
	end := strings.LastIndexByte(line, '}')
	rest := line[end+1:]
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return "", "", false
	}
	if end < 0 {
		return fields[0], fieldAt(fields, 1), len(fields) >= 2
	}
	return line[:end+1], fields[0], true
}

// fieldAt returns fields[i] or "".
func fieldAt(fields []string, i int) string {
	if i < len(fields) {
		return fields[i]
	}
	return ""
}

// hasLabels reports whether the label set text (`a="1",b="2"`) holds every
// wanted pair. Label values must not contain `",`.
func hasLabels(set string, want map[string]string) bool {
	for k, v := range want {
		if !strings.Contains(","+set+",", ","+k+"="+strconv.Quote(v)+",") {
			return false
		}
	}
	return true
}
