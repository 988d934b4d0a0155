// Command agent is a counting ssh-agent for the auth-key benchmark
// (bench/authkey.sh): it holds the private keys given with -key, serves
// the agent protocol on -socket, counts every signature and sleeps -delay
// before each one, the way a hardware token waits for a touch. The count
// is rewritten to -count after every signature.
//
//	go run ./bench/agent -socket /tmp/a.sock -key id_ed25519 -delay 300ms -count signs.txt
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

type counting struct {
	agent.ExtendedAgent
	delay time.Duration
	path  string
	mu    sync.Mutex
	n     int
}

func (c *counting) count() {
	c.mu.Lock()
	c.n++
	n := c.n
	c.mu.Unlock()
	if c.path != "" {
		tmp := c.path + ".tmp"
		if err := os.WriteFile(tmp, []byte(fmt.Sprintf("%d\n", n)), 0o644); err == nil {
			os.Rename(tmp, c.path)
		}
	}
	time.Sleep(c.delay)
}

func (c *counting) Sign(key ssh.PublicKey, data []byte) (*ssh.Signature, error) {
	c.count()
	return c.ExtendedAgent.Sign(key, data)
}

func (c *counting) SignWithFlags(key ssh.PublicKey, data []byte, flags agent.SignatureFlags) (*ssh.Signature, error) {
	c.count()
	return c.ExtendedAgent.SignWithFlags(key, data, flags)
}

type keyList []string

func (k *keyList) String() string     { return strings.Join(*k, ",") }
func (k *keyList) Set(v string) error { *k = append(*k, v); return nil }

func main() {
	socket := flag.String("socket", "", "unix socket to serve on (required)")
	delay := flag.Duration("delay", 300*time.Millisecond, "sleep before each signature")
	countPath := flag.String("count", "", "file rewritten with the signature count")
	var keys keyList
	flag.Var(&keys, "key", "private key file to hold (repeatable)")
	flag.Parse()
	if *socket == "" || len(keys) == 0 {
		flag.Usage()
		os.Exit(2)
	}
	kr := agent.NewKeyring().(agent.ExtendedAgent)
	for _, p := range keys {
		data, err := os.ReadFile(p)
		if err != nil {
			log.Fatal(err)
		}
		priv, err := ssh.ParseRawPrivateKey(data)
		if err != nil {
			log.Fatalf("%s: %v", p, err)
		}
		if err := kr.Add(agent.AddedKey{PrivateKey: priv, Comment: p}); err != nil {
			log.Fatal(err)
		}
	}
	a := &counting{ExtendedAgent: kr, delay: *delay, path: *countPath}
	if *countPath != "" {
		os.WriteFile(*countPath, []byte("0\n"), 0o644)
	}
	os.Remove(*socket)
	l, err := net.Listen("unix", *socket)
	if err != nil {
		log.Fatal(err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		l.Close()
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			os.Remove(*socket)
			return
		}
		go func() {
			defer c.Close()
			agent.ServeAgent(a, c)
		}()
	}
}
