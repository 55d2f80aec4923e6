package framework

// RepoRoot returns the root of the kproxy repository: the working directory
// or the closest parent holding kproxy's go.mod.
func RepoRoot() (string, error) { return repoRoot() }
