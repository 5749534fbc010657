//go:build tools

// Package tools only records the dependency on compose's command: `go build
// github.com/docker/compose/v2/cmd` in this module (see go.mod) builds the docker-compose binary.
package tools

import _ "github.com/docker/compose/v2/cmd"
