// Package secretmanagertest is an in-process Secret Manager that serves AccessSecretVersion to
// the real client over loopback gRPC. It keeps secrets with numbered versions, resolves
// "latest" to the newest enabled version, refuses disabled and destroyed versions with
// FAILED_PRECONDITION as the real API does, and can deny a secret with PERMISSION_DENIED.
package secretmanagertest

import (
	"context"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"sync"
	"testing"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/runmedic/runmedic/internal/fakeserver"
)

// Server is the fake service. All methods are safe for concurrent use.
type Server struct {
	secretmanagerpb.UnimplementedSecretManagerServiceServer

	fakeserver.Server

	mu       sync.Mutex
	versions map[string][]version // secret name (projects/P/secrets/S) → versions 1..n
	denied   map[string]bool
	accesses int
}

type version struct {
	data  []byte
	state secretmanagerpb.SecretVersion_State
}

// Start starts a Server on a random 127.0.0.1 port. The caller must Close it.
func Start() (*Server, error) {
	s := &Server{versions: map[string][]version{}, denied: map[string]bool{}}
	if err := s.Server.Start("127.0.0.1:0", func(g *grpc.Server) { secretmanagerpb.RegisterSecretManagerServiceServer(g, s) }); err != nil {
		return nil, fmt.Errorf("secretmanagertest: %w", err)
	}
	return s, nil
}

// New starts a Server that stops when the test ends. Its Addr, for cloudrun.EndpointOptions or
// RUNMEDIC_SECRETMANAGER_ENDPOINT, and Close come from fakeserver.Server.
func New(t testing.TB) *Server { return fakeserver.New(t, Start) }

// AddVersion adds an enabled version to secret (projects/P/secrets/S) and returns its number.
func (s *Server) AddVersion(secret, data string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.versions[secret] = append(s.versions[secret], version{data: []byte(data), state: secretmanagerpb.SecretVersion_ENABLED})
	return len(s.versions[secret])
}

// Disable disables version n of secret.
func (s *Server) Disable(secret string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n >= 1 && n <= len(s.versions[secret]) {
		s.versions[secret][n-1].state = secretmanagerpb.SecretVersion_DISABLED
	}
}

// Deny makes every access to secret fail with PERMISSION_DENIED, as a missing
// secretmanager.secretAccessor grant does.
func (s *Server) Deny(secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[secret] = true
}

// Accesses counts AccessSecretVersion calls that returned data.
func (s *Server) Accesses() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accesses
}

// AccessSecretVersion serves projects/P/secrets/S/versions/{N|latest}.
func (s *Server) AccessSecretVersion(_ context.Context, req *secretmanagerpb.AccessSecretVersionRequest) (*secretmanagerpb.AccessSecretVersionResponse, error) {
	p := strings.Split(req.GetName(), "/")
	if len(p) != 6 || p[0] != "projects" || p[2] != "secrets" || p[4] != "versions" {
		return nil, status.Errorf(codes.InvalidArgument, "invalid resource name %q", req.GetName())
	}
	secret := strings.Join(p[:4], "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.denied[secret] {
		return nil, status.Errorf(codes.PermissionDenied, "Permission 'secretmanager.versions.access' denied for resource '%s'", req.GetName())
	}
	vs, ok := s.versions[secret]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Secret [%s] not found or has no versions.", secret)
	}
	n := 0
	if p[5] == "latest" {
		for i := len(vs); i >= 1; i-- {
			if vs[i-1].state == secretmanagerpb.SecretVersion_ENABLED {
				n = i
				break
			}
		}
		if n == 0 {
			return nil, status.Errorf(codes.FailedPrecondition, "Secret [%s] has no enabled version.", secret)
		}
	} else {
		var err error
		if n, err = strconv.Atoi(p[5]); err != nil || n < 1 {
			return nil, status.Errorf(codes.InvalidArgument, "invalid version %q", p[5])
		}
		if n > len(vs) {
			return nil, status.Errorf(codes.NotFound, "Secret Version [%s] not found.", req.GetName())
		}
		if vs[n-1].state != secretmanagerpb.SecretVersion_ENABLED {
			return nil, status.Errorf(codes.FailedPrecondition, "Secret Version [%s] is in %s state.", req.GetName(), vs[n-1].state)
		}
	}
	data := vs[n-1].data
	sum := int64(crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))
	s.accesses++
	return &secretmanagerpb.AccessSecretVersionResponse{
		Name:    fmt.Sprintf("%s/versions/%d", secret, n),
		Payload: &secretmanagerpb.SecretPayload{Data: data, DataCrc32C: &sum},
	}, nil
}
