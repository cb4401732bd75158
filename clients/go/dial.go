package gatehouse

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// TLSFiles names the PEM files of a client identity: the CA that signed Gatehouse's server
// certificate, and this caller's certificate and key (issued by Gatehouse's CA).
type TLSFiles struct {
	CA, Cert, Key string
}

// Dial opens a gRPC connection to Gatehouse's gRPC port over mutual TLS (TLS 1.3 minimum).
func Dial(address string, files TLSFiles, options ...grpc.DialOption) (*grpc.ClientConn, error) {
	certificate, err := tls.LoadX509KeyPair(files.Cert, files.Key)
	if err != nil {
		return nil, fmt.Errorf("gatehouse: client certificate: %w", err)
	}
	caPEM, err := os.ReadFile(files.CA)
	if err != nil {
		return nil, fmt.Errorf("gatehouse: CA: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("gatehouse: CA: no certificate in " + files.CA)
	}
	config := &tls.Config{
		Certificates: []tls.Certificate{certificate},
		RootCAs:      roots,
		MinVersion:   tls.VersionTLS13,
	}
	return grpc.NewClient(address, append([]grpc.DialOption{
		grpc.WithTransportCredentials(credentials.NewTLS(config)),
	}, options...)...)
}
