// demo-http is the service Faultline's demo and e2e tests inject faults into.
//
// Every answer names the pod that served it and how many requests that pod has served, so a
// client can measure QPS and see which replica answered (and notice when one stops answering).
//
// `demo-http get [-n N] URL` is the matching client: busybox's wget is linked statically against
// glibc and crashes resolving service names in a minimal image, a static Go client does not.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "get" {
		os.Exit(get(os.Args[2:]))
	}
	serve()
}

// get fetches URL n times and prints one line per answer; failures go to stderr and the exit
// code, so a caller can count answers and errors separately.
func get(args []string) int {
	flags := flag.NewFlagSet("get", flag.ExitOnError)
	n := flags.Int("n", 1, "number of requests")
	timeout := flags.Duration("timeout", 5*time.Second, "per-request timeout")
	_ = flags.Parse(args)
	if flags.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: demo-http get [-n N] [-timeout 5s] URL")
		return 2
	}
	// A new connection per request, so a Service spreads requests over its replicas.
	client := &http.Client{Timeout: *timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	failed := 0
	for i := 0; i < *n; i++ {
		resp, err := client.Get(flags.Arg(0))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			failed++
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(strings.TrimSpace(string(body)))
	}
	if failed > 0 {
		return 1
	}
	return 0
}

func serve() {
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
