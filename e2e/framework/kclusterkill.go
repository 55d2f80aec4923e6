package framework

import "os"

// Kill ends kcluster at once (SIGKILL), as a crash or a lost machine would,
// and waits for it to exit. Its directory stays: StartKCluster with the same
// Dir and address brings back the same objects, resource versions and
// credentials, so clients built earlier keep working. The log is kept as
// LogPath + ".1", since a new start rewrites LogPath.
func (k *KCluster) Kill() {
	if k.cmd == nil || k.cmd.Process == nil {
		return
	}
	_ = k.cmd.Process.Kill()
	<-k.exited
	_ = os.Rename(k.LogPath, k.LogPath+".1")
}
