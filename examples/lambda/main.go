// Command lambda serves a cookiesession app from AWS Lambda behind API
// Gateway, a function URL or an Application Load Balancer. Set
// COOKIESESSION_KEYS to a key ring (cookiesession keygen), and
// API_GATEWAY_PAYLOAD=1.0 for a REST API or a load balancer; an HTTP API or
// a buffered function URL (payload 2.0) needs nothing more.
package main

import (
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/seed-ff2808ae/cookiesession"
)

// newApp runs once per cold start: parsing the key ring is all it costs.
func newApp() (http.Handler, error) {
	ring, err := cookiesession.LoadKeyRingEnv() // COOKIESESSION_KEYS
	if err != nil {
		return nil, err
	}
	// Key ids, the primary starred, and fingerprints, never a secret: with no
	// /debug/vars here, this line shows which ring each cold start runs.
	slog.Info("cookiesession example: key ring loaded", "ring", ring.String())
	sessions, err := cookiesession.New(ring, cookiesession.Options{
		MaxChunks: 2, // up to two 4 KB cookies
	})
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /note", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		if err := s.Set("note", r.FormValue("note")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		note := cookiesession.FromContext(r.Context()).GetString("note")
		fmt.Fprintf(w, "your note has %d bytes\n", len(note))
	})
	// CrossOriginProtection refuses cross-origin POSTs (CSRF): SameSite=Lax
	// keeps the cookie off them, but a forged form would still replace it.
	return http.NewCrossOriginProtection().Handler(sessions.Handler(mux)), nil
}

func main() {
	app, err := newApp()
	if err != nil {
		log.Fatal(err)
	}
	if os.Getenv("API_GATEWAY_PAYLOAD") == "1.0" {
		lambda.Start(answerPings(proxyV1(app))) // REST API, Application Load Balancer (single.go)
		return
	}
	lambda.Start(answerPings(proxyV2(app))) // HTTP API, function URL (payload.go)
}
