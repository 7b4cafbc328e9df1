package tests

import (
	"os/exec"
	"strings"
	"testing"
)

// offline are the packages that decide without touching a live service: they must build into
// tools (replay, the scenario goldens) that link no gRPC and no cloud client.
var offline = []string{"outcome", "scenario", "replay"}

// TestOfflineLinksNoCloudClient keeps the pure half of the pipeline apart from the adapters: no
// package in the transitive imports of the offline packages is gRPC or a Google Cloud client.
func TestOfflineLinksNoCloudClient(t *testing.T) {
	for _, pkg := range offline {
		linksNoCloudClient(t, pkg)
	}
}

// TestOrchestratorLinksNoCloudClient: remediate declares its interfaces and error classes with
// its own types, and the wiring (function, cmd/runmedic, tests) hands it the adapters, so it links
// no gRPC and no Google Cloud client either.
func TestOrchestratorLinksNoCloudClient(t *testing.T) {
	linksNoCloudClient(t, "remediate")
}

func linksNoCloudClient(t *testing.T, pkg string) {
	t.Helper()
	path := "github.com/runmedic/runmedic/internal/" + pkg
	out, err := exec.Command("go", "list", "-deps", path).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", path, err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "google.golang.org/grpc" || strings.HasPrefix(dep, "google.golang.org/grpc/") || strings.HasPrefix(dep, "cloud.google.com/go") {
			t.Errorf("internal/%s imports %s (transitively): cloud clients belong to the adapters", pkg, dep)
		}
	}
}
