// Package grpcproxy serves several gRPC backends on one address, routing each call by the
// package of its service, so that one endpoint (e.g. RUNMEDIC_RUN_ENDPOINT,
// RUNMEDIC_MONITORING_ENDPOINT and RUNMEDIC_LOGGING_ENDPOINT all naming 127.0.0.1:9010) reaches
// several local fakes. Messages pass through as bytes, unary and streaming alike, with their
// metadata, headers, trailers and status.
package grpcproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Route sends the calls of every service whose full name starts with Prefix (e.g.
// "google.logging.v2.") to the plaintext gRPC server at Backend.
type Route struct {
	Prefix  string
	Backend string
}

// Proxy is a running front server. Close stops it.
type Proxy struct {
	addr   string
	gsrv   *grpc.Server
	routes []route
}

type route struct {
	prefix string
	conn   *grpc.ClientConn
}

// Start listens on addr and forwards calls by routes, the first matching prefix winning. A call
// no route matches fails with Unimplemented, as a server without the service would answer.
func Start(addr string, routes ...Route) (*Proxy, error) {
	p := &Proxy{}
	for _, r := range routes {
		conn, err := grpc.NewClient(r.Backend,
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})))
		if err != nil {
			p.closeConns()
			return nil, fmt.Errorf("grpcproxy: backend %s: %w", r.Backend, err)
		}
		p.routes = append(p.routes, route{prefix: r.Prefix, conn: conn})
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		p.closeConns()
		return nil, fmt.Errorf("grpcproxy: listen: %w", err)
	}
	p.addr = l.Addr().String()
	p.gsrv = grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(p.forward))
	go p.gsrv.Serve(l) //nolint:errcheck // Serve returns when Close stops the server.
	return p, nil
}

// Addr is the host:port the proxy listens on.
func (p *Proxy) Addr() string { return p.addr }

// Close stops the proxy and its connections to the backends.
func (p *Proxy) Close() {
	p.gsrv.Stop()
	p.closeConns()
}

func (p *Proxy) closeConns() {
	for _, r := range p.routes {
		r.conn.Close()
	}
}

// forward relays one call: the client's messages to the backend until the client is done, the
// backend's header, messages and trailer back, and the backend's status as the call's status.
func (p *Proxy) forward(_ any, in grpc.ServerStream) error {
	method, ok := grpc.MethodFromServerStream(in)
	if !ok {
		return status.Error(codes.Internal, "grpcproxy: no method in the stream")
	}
	service := strings.TrimPrefix(method, "/")
	var conn *grpc.ClientConn
	for _, r := range p.routes {
		if strings.HasPrefix(service, r.prefix) {
			conn = r.conn
			break
		}
	}
	if conn == nil {
		return status.Errorf(codes.Unimplemented, "grpcproxy: no backend serves %s", method)
	}
	ctx, cancel := context.WithCancel(in.Context())
	defer cancel()
	md, _ := metadata.FromIncomingContext(ctx)
	md = md.Copy()
	for _, k := range []string{":authority", "content-type", "grpc-timeout"} {
		delete(md, k)
	}
	out, err := conn.NewStream(metadata.NewOutgoingContext(ctx, md),
		&grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, method)
	if err != nil {
		return err
	}
	sent := make(chan error, 1)
	go func() { sent <- pump(in, out) }()

	if hdr, err := out.Header(); err == nil {
		if err := in.SendHeader(hdr); err != nil {
			return err
		}
	}
	for {
		var msg []byte
		if err := out.RecvMsg(&msg); err != nil {
			in.SetTrailer(out.Trailer())
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err // the backend's status
		}
		if err := in.SendMsg(&msg); err != nil {
			return err
		}
		select {
		case err := <-sent:
			if err != nil {
				return status.Errorf(codes.Unavailable, "grpcproxy: forward request: %v", err)
			}
		default:
		}
	}
}

// pump copies the client's messages to the backend and closes the backend's side when the client
// has sent its last one.
func pump(in grpc.ServerStream, out grpc.ClientStream) error {
	for {
		var msg []byte
		if err := in.RecvMsg(&msg); err != nil {
			if errors.Is(err, io.EOF) {
				return out.CloseSend()
			}
			return err
		}
		if err := out.SendMsg(&msg); err != nil {
			if errors.Is(err, io.EOF) {
				return nil // the backend ended the call; its status follows in RecvMsg
			}
			return err
		}
	}
}

// rawCodec passes messages through as bytes. It is named "proto" so the content type on both
// sides stays application/grpc+proto, which the messages are.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) ([]byte, error) {
	b, ok := v.(*[]byte)
	if !ok {
		return nil, fmt.Errorf("grpcproxy: marshal %T, want *[]byte", v)
	}
	return *b, nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	b, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("grpcproxy: unmarshal into %T, want *[]byte", v)
	}
	*b = append((*b)[:0], data...)
	return nil
}
