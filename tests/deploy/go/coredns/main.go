// Command coredns is CoreDNS with only the plugins the single test node needs: cluster DNS for Services and
// pods (kubernetes), the rest forwarded (forward), cached (cache), and the operational ones (bind, errors, log,
// health, ready). Built by tests/deploy/k8s_node.sh build; upstream's main imports every plugin.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

func init() {
	// Upstream's order (plugin.cfg) restricted to the plugins linked in: a request passes them top to bottom.
	dnsserver.Directives = []string{"bind", "ready", "health", "errors", "log", "cache", "kubernetes", "forward"}
}

func main() {
	coremain.Run()
}
