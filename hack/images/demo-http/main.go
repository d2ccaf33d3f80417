// demo-http is the service Faultline's demo and e2e tests inject faults into.
//
// Every answer names the pod that served it and how many requests that pod has served, so a
// client can measure QPS and see which replica answered (and notice when one stops answering).
package main

import (
	"encoding/json"
	"log"
	"net/http"
	"os"
	"sync/atomic"
	"time"
)

func main() {
	pod := os.Getenv("POD_NAME")
	if pod == "" {
		pod, _ = os.Hostname()
	}
	addr := ":" + envOr("PORT", "8080")
	var served atomic.Int64
	started := time.Now()

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		n := served.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"pod":      pod,
			"served":   n,
			"uptime_s": time.Since(started).Seconds(),
			"path":     r.URL.Path,
		})
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	server := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Printf("demo-http %s listening on %s", pod, addr)
	log.Fatal(server.ListenAndServe())
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
