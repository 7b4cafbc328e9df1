// Package function is a stand-in with the shape of the real function package: declarative
// registration in init, imports of internal packages and of the embedded policies.
package function

import (
	"net/http"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/runmedic/runmedic/internal/probe"
	"github.com/runmedic/runmedic/policies"
)

func init() {
	functions.HTTP("Remediate", remediate)
}

func remediate(w http.ResponseWriter, r *http.Request) {
	_ = probe.Name
	if _, err := policies.FS.ReadFile("data/config.yaml"); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}
