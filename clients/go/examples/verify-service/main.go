// Command verify-service is an example Go service that accepts Gatehouse access tokens,
// verifying them offline against the issuer's key set (GetJwks over mutual TLS).
//
//	go run ./examples/verify-service -gatehouse 127.0.0.1:7443 -issuer https://gatehouse.example.com \
//	  -audience https://api.example.com -ca ca.pem -cert verifier.pem -key verifier-key.pem
//
// GET /orders needs the scope orders:read. A DPoP-bound token (Authorization: DPoP …) must come
// with its proof in the DPoP header (RFC 9449 §7.1); a bearer token with Authorization: Bearer.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"strings"

	"google.golang.org/grpc/codes"

	gatehouse "github.com/gatehouse-dev/gatehouse/clients/go"
	gatehousev1 "github.com/gatehouse-dev/gatehouse/clients/go/gen/gatehouse/v1"
)

func main() {
	address := flag.String("gatehouse", "127.0.0.1:7443", "Gatehouse gRPC address")
	issuer := flag.String("issuer", "", "the tokens' issuer (iss)")
	audience := flag.String("audience", "", "this service's audience; also its public origin")
	listen := flag.String("listen", "127.0.0.1:8080", "address to serve on")
	var files gatehouse.TLSFiles
	flag.StringVar(&files.CA, "ca", "ca.pem", "Gatehouse's CA")
	flag.StringVar(&files.Cert, "cert", "verifier.pem", "this service's client certificate (verifier role)")
	flag.StringVar(&files.Key, "key", "verifier-key.pem", "its private key")
	flag.Parse()

	conn, err := gatehouse.Dial(*address, files)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	verifier := &gatehouse.Verifier{
		Issuer:   *issuer,
		Audience: *audience,
		Keys:     gatehouse.NewKeySet(gatehousev1.NewVerifyServiceClient(conn)),
	}
	orders := func(w http.ResponseWriter, r *http.Request) {
		claims := r.Context().Value(claimsKey{}).(*gatehouse.Claims)
		fmt.Fprintf(w, "orders of %s\n", claims.Subject)
	}
	http.Handle("GET /orders", requireToken(verifier, *audience, []string{"orders:read"}, http.HandlerFunc(orders)))
	log.Fatal(http.ListenAndServe(*listen, nil))
}

type claimsKey struct{}

// requireToken verifies the request's token (and DPoP proof) before next runs; refusals answer
// 401 with the reason, never the token.
func requireToken(verifier *gatehouse.Verifier, origin string, scopes []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		options := gatehouse.VerifyOptions{RequiredScopes: scopes}
		if strings.EqualFold(scheme, "DPoP") {
			// htu is the URL the client called: this service's public origin and the path.
			options.DPoP = &gatehouse.DPoPContext{Proof: r.Header.Get("DPoP"), Method: r.Method, URL: origin + r.URL.Path}
		} else if !strings.EqualFold(scheme, "Bearer") {
			http.Error(w, "missing token", http.StatusUnauthorized)
			return
		}
		claims, err := verifier.Verify(r.Context(), token, options)
		if refused := gatehouse.AsError(err); refused != nil {
			switch {
			case refused.Code != codes.OK: // the key set could not be fetched: not the client's fault
				http.Error(w, "verification unavailable", http.StatusServiceUnavailable)
			case refused.Reason == gatehousev1.Reason_REASON_INSUFFICIENT_SCOPE:
				http.Error(w, refused.Reason.String(), http.StatusForbidden)
			default:
				http.Error(w, refused.Reason.String(), http.StatusUnauthorized)
			}
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, claims)))
	})
}
