// Faultline's cluster DNS: CoreDNS with only the plugins a dev cluster needs. Leaving out the
// cloud and forwarding plugins keeps the build small and guarantees no query ever leaves the
// host (the Corefile has no `forward`: names outside cluster.local get NXDOMAIN/SERVFAIL).
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

func init() {
	// Execution order, as in upstream's generated list, restricted to the plugins above.
	dnsserver.Directives = []string{"log", "health", "ready", "errors", "cache", "loadbalance", "kubernetes"}
}

func main() {
	coremain.Run()
}
