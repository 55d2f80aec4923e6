package main

import (
	"strings"
	"testing"

	"github.com/kproxy/kproxy/e2e/framework"
	"github.com/kproxy/kproxy/e2e/traffic"
)

// TestChecks checks the verdicts that make the demo fail when traffic does
// not flow as each Service promises.
func TestChecks(t *testing.T) {
	pods := []*framework.Pod{{Name: "web-1"}, {Name: "web-2"}, {Name: "web-3"}}
	every := everyPodAnswers(pods)
	tests := []struct {
		name    string
		check   func(traffic.Result) (string, error)
		r       traffic.Result
		wantErr string // "" for a pass
	}{
		{"spread over every pod", every, traffic.Result{Sent: 30, Pods: map[string]int{"web-1": 10, "web-2": 9, "web-3": 11}}, ""},
		{"a pod never answers", every, traffic.Result{Sent: 30, Pods: map[string]int{"web-1": 15, "web-3": 15}}, "no answer from web-2"},
		{"some connections time out", every, traffic.Result{Sent: 30, Pods: map[string]int{"web-1": 10, "web-2": 9, "web-3": 9}, TimedOut: 2}, "2 of 30 connections got no answer"},
		{"nothing answers", every, traffic.Result{Sent: 30, Refused: 30}, "30 of 30 connections got no answer"},
		{"nothing sent", every, traffic.Result{}, "nothing sent"},
		{"affinity holds", onePodAnswers, traffic.Result{Sent: 30, Pods: map[string]int{"cart-2": 30}}, ""},
		{"affinity broken", onePodAnswers, traffic.Result{Sent: 30, Pods: map[string]int{"cart-1": 1, "cart-2": 29}}, "answered by 2 pods (cart-1, cart-2)"},
		{"affinity but a timeout", onePodAnswers, traffic.Result{Sent: 30, Pods: map[string]int{"cart-2": 29}, TimedOut: 1}, "1 of 30 connections got no answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verdict, err := tt.check(tt.r)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("failed: %v", err)
			case tt.wantErr == "" && verdict == "":
				t.Error("passed without saying what it proves")
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
