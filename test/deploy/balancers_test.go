package deploy_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// haproxyConfig is HAProxy in front of the nodes, with the stickiness of the
// socket.io docs: the server's name in a SERVERID cookie that HAProxy
// inserts on the first answer, so that every later request of the client
// reaches that server. README's "Deploying" shows the backend section.
// option redispatch and the health checks move a client whose server died
// to a live one. %[1]d is the port; %[2]s the server lines.
const haproxyConfig = `global
  maxconn 2000

defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  timeout tunnel 1h
  retries 1
  option redispatch

frontend sio
  bind 127.0.0.1:%[1]d
  default_backend nodes

backend nodes
  balance roundrobin
  cookie SERVERID insert indirect nocache
%[2]s`

// haproxyServer is one server line; %[1]s is the node's name, %[2]s its
// address.
const haproxyServer = "  server %[1]s %[2]s check cookie %[1]s\n"

// startHAProxy starts HAProxy in front of nodes and returns its URL.
func startHAProxy(t *testing.T, nodes map[string]*node) string {
	t.Helper()
	var servers strings.Builder
	for _, name := range sortedNames(nodes) {
		fmt.Fprintf(&servers, haproxyServer, name, nodes[name].addr())
	}
	port := freePort(t)
	cfg := writeFile(t, t.TempDir(), "haproxy.cfg", fmt.Sprintf(haproxyConfig, port, servers.String()))
	p := startProc(t, "haproxy", "haproxy", "-db", "-f", cfg)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p.waitListening(t, addr)
	return "http://" + addr
}

// nginxConfig is nginx in front of the nodes, as in the socket.io docs:
// ip_hash stickiness and the WebSocket upgrade headers. README's
// "Deploying" shows the upstream and location blocks. One process, whose
// pid, logs and temporary files are in the test's directory. %[1]s is that
// directory, %[2]d the port, %[3]s the server lines.
const nginxConfig = `daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;

  upstream nodes {
    ip_hash;
%[3]s  }

  server {
    listen 127.0.0.1:%[2]d;
    location / {
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header Host $host;
      proxy_pass http://nodes;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
    }
  }
}
`

// startNginx starts nginx in front of nodes and returns its URL.
func startNginx(t *testing.T, nodes map[string]*node) string {
	t.Helper()
	var servers strings.Builder
	for _, name := range sortedNames(nodes) {
		fmt.Fprintf(&servers, "    server %s;\n", nodes[name].addr())
	}
	dir := t.TempDir()
	port := freePort(t)
	cfg := writeFile(t, dir, "nginx.conf", fmt.Sprintf(nginxConfig, dir, port, servers.String()))
	p := startProc(t, "nginx", "nginx", "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", cfg)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p.waitListening(t, addr)
	return "http://" + addr
}
