// Added by aks-runbook at build time (see lib/aks_runbook/targets/binaries.py, KWOK_OVERLAY):
// Run() in server.go wraps its handler with aksRunbookRequireClientCert and serves TLS
// through aksRunbookServeTLS.

package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
)

// AKS_RUNBOOK_KWOK_CLIENT_CA, when set, names a PEM file of certificate authorities: the
// server (exec, attach, port-forward, logs, metrics) then answers only TLS clients that
// present a certificate signed by one of them (the API server), and refuses plain HTTP.
const aksRunbookClientCAEnv = "AKS_RUNBOOK_KWOK_CLIENT_CA"

func aksRunbookRequireClientCert(next http.Handler) http.Handler {
	if os.Getenv(aksRunbookClientCAEnv) == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
			http.Error(w, "a client certificate signed by the cluster CA is required",
				http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func aksRunbookServeTLS(svc *http.Server, l net.Listener, certFile, keyFile string) error {
	caFile := os.Getenv(aksRunbookClientCAEnv)
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return fmt.Errorf("%s: %w", aksRunbookClientCAEnv, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("%s: no certificate in %s", aksRunbookClientCAEnv, caFile)
		}
		svc.TLSConfig = &tls.Config{
			MinVersion: tls.VersionTLS12,
			ClientAuth: tls.RequireAndVerifyClientCert,
			ClientCAs:  pool,
		}
	}
	return svc.ServeTLS(l, certFile, keyFile)
}
