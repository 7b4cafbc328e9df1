package fakeserver

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	"google.golang.org/grpc/health/grpc_health_v1"
)

// A registered service answers on Addr until Close.
func TestServesUntilClosed(t *testing.T) {
	var s Server
	if err := s.Start("127.0.0.1:0", func(g *grpc.Server) { grpc_health_v1.RegisterHealthServer(g, health.NewServer()) }); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") || strings.HasSuffix(s.Addr(), ":0") {
		t.Fatalf("Addr() = %q, want 127.0.0.1 with the port chosen", s.Addr())
	}
	if n := len(s.ClientOptions()); n != 3 {
		t.Errorf("len(ClientOptions()) = %d, want 3", n)
	}
	conn, err := grpc.NewClient(s.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hc := grpc_health_v1.NewHealthClient(conn)
	resp, err := hc.Check(context.Background(), &grpc_health_v1.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != grpc_health_v1.HealthCheckResponse_SERVING {
		t.Fatalf("Check = %v, %v; want SERVING", resp, err)
	}
	s.Close()
	if _, err := hc.Check(context.Background(), &grpc_health_v1.HealthCheckRequest{}); err == nil {
		t.Error("Check after Close succeeded")
	}
}

func TestStartRefusesABadAddress(t *testing.T) {
	var s Server
	err := s.Start("127.0.0.1:notaport", func(*grpc.Server) { t.Error("register called for a server that cannot listen") })
	if err == nil || !strings.HasPrefix(err.Error(), "listen: ") {
		t.Fatalf("Start = %v, want a listen error", err)
	}
}

// New stops the server when the test ends.
func TestNewClosesAtCleanup(t *testing.T) {
	var s *Server
	t.Run("inner", func(t *testing.T) {
		s = New(t, func() (*Server, error) {
			s := &Server{}
			return s, s.Start("127.0.0.1:0", func(g *grpc.Server) { grpc_health_v1.RegisterHealthServer(g, health.NewServer()) })
		})
		if _, err := healthCheck(s.Addr()); err != nil {
			t.Fatalf("Check while the test runs: %v", err)
		}
	})
	if _, err := healthCheck(s.Addr()); err == nil {
		t.Error("Check after the test ended succeeded")
	}
}

func healthCheck(addr string) (*grpc_health_v1.HealthCheckResponse, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return grpc_health_v1.NewHealthClient(conn).Check(context.Background(), &grpc_health_v1.HealthCheckRequest{})
}
