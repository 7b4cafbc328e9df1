// Package fakeserver is the loopback gRPC server under the in-process fakes of Google APIs
// (loggingtest, monitoringtest, secretmanagertest): it listens, serves the services a fake
// registers, and gives the real client libraries the options to reach it.
package fakeserver

import (
	"fmt"
	"net"
	"testing"

	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Server is embedded by a fake: it serves the fake's registered services until Close. Its zero
// value is not serving; Start makes it so.
type Server struct {
	addr string
	gsrv *grpc.Server
}

// Start listens on addr (e.g. "127.0.0.1:0" for a random port), lets register add the fake's
// services to the gRPC server, and serves them in the background.
func (s *Server) Start(addr string, register func(*grpc.Server)) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	s.addr = l.Addr().String()
	s.gsrv = grpc.NewServer()
	register(s.gsrv)
	go s.gsrv.Serve(l) //nolint:errcheck // Serve returns when Close stops the server.
	return nil
}

// Close stops the server and drops every connection.
func (s *Server) Close() { s.gsrv.Stop() }

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.addr }

// ClientOptions point a real Google client at the server: its endpoint, no credentials, and
// plaintext gRPC.
func (s *Server) ClientOptions() []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(s.addr),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	}
}

// New calls start and stops what it started when the test ends; a failure to start fails the
// test. It is the body of each fake's New(t).
func New[S interface{ Close() }](t testing.TB, start func() (S, error)) S {
	t.Helper()
	s, err := start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}
