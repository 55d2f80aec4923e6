// Package endpoints turns a Service's EndpointSlices into the endpoints kproxy programs.
//
// It has two jobs: merging every slice of one service into one list per service port and IP
// family (Merge), and choosing, for this node, which of those endpoints may receive traffic
// (Select): ready endpoints first, serving-and-terminating ones only when none is ready,
// topology hints when every endpoint carries them, and local endpoints for Local traffic
// policies. Tracker keeps the latest slices and reports which services' endpoints changed.
package endpoints
