package exporter

import (
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// recovering is a source's collector that cannot take the scrape down: a
// panic in it is logged and ends that source's part of the scrape (the
// series it rendered before stay), never the process or the rest of the
// scrape. The registry runs collectors in goroutines of its own, so the
// panic must be caught here, inside Collect.
type recovering struct {
	c      prometheus.Collector
	src    string
	logger *slog.Logger
}

func (r recovering) Describe(ch chan<- *prometheus.Desc) { r.c.Describe(ch) }

func (r recovering) Collect(ch chan<- prometheus.Metric) {
	defer func() {
		if p := recover(); p != nil {
			r.logger.Error("collector panicked; the source's remaining series are left out of this scrape", "src", r.src, "panic", p)
		}
	}()
	r.c.Collect(ch)
}

// limits are the HTTP server's and the commit watchdog's bounds.
type limits struct {
	readHeader, read, write, idle time.Duration
	maxConns                      int
	// commit is the longest a state commit may take before the source is
	// marked down; watch is how often the watchdog looks.
	commit, watch time.Duration
}

// defaultLimits: a request (headers and body: survey pushes are at most
// 1 MiB) must arrive within 30 s, a response be written within 60 s (a
// large /metrics page included), and an idle keep-alive connection is
// closed after 60 s; at most 256 connections are served at once, further
// ones wait in the listen backlog until one closes.
var defaultLimits = limits{
	readHeader: 10 * time.Second,
	read:       30 * time.Second,
	write:      60 * time.Second,
	idle:       60 * time.Second,
	maxConns:   256,
	commit:     30 * time.Second,
	watch:      time.Second,
}

// limitListener accepts at most n connections at a time: Accept waits for
// an open one to close (as golang.org/x/net/netutil.LimitListener).
func limitListener(l net.Listener, n int) net.Listener {
	return &limitedListener{Listener: l, sem: make(chan struct{}, n), done: make(chan struct{})}
}

type limitedListener struct {
	net.Listener
	sem       chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func (l *limitedListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitedListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
