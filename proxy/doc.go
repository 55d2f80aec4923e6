// Package proxy holds what every kproxy mode shares: the table of services and endpoints
// fed by the watcher, the snapshot a mode syncs from, the Backend contract, the sync
// runner, and the metrics, healthz and debug endpoints.
//
// Data flows one way: informer events update the change trackers (ServiceTracker,
// endpoints.Tracker); the sync loop applies pending changes to the Table, takes one
// Snapshot per IP family and calls each family's Backend with it.
package proxy
