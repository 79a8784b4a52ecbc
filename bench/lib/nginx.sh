# bench/lib/nginx.sh — nginx (nginx-light) on a free loopback port, in the
# foreground under our PID bookkeeping (sourced; needs common.sh).
#
# nginx_static WORKERS    -> NGINX_PORT: GET /hello returns {"ok":true}
# nginx_proxy UPSTREAM WORKERS -> NGINX_PORT: every request is proxied with
#   keep-alive upstream connections to UPSTREAM (host:port), the
#   "conventional proxy hop" baseline of issue 9.

nginx_bin() { command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; }; }

_nginx_run() { # dir conf-body workers
	_nb=$(nginx_bin) || return 1
	[ -n "$_nb" ] || return 1
	mkdir -p "$1"
	NGINX_PORT=$(free_port)
	cat >"$1/nginx.conf" <<CONF
worker_processes $3;
pid $1/nginx.pid;
error_log $1/error.log;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $1/body;
  proxy_temp_path $1/proxy;
  fastcgi_temp_path $1/fcgi;
  uwsgi_temp_path $1/uwsgi;
  scgi_temp_path $1/scgi;
  keepalive_requests 1000000;
  $(printf '%s' "$2" | sed "s/@PORT@/$NGINX_PORT/g")
}
CONF
	bg_start "$1/stdout.log" "$_nb" -c "$1/nginx.conf" -p "$1"
	NGINX_PID=$BG_PID
	wait_http "http://127.0.0.1:$NGINX_PORT/" 5 || {
		warn "nginx did not start: $(tail -n 3 "$1/error.log" 2>/dev/null)"
		return 1
	}
}

nginx_static() { # workers
	_nginx_run "$TMP/nginx-static-$1-$$" \
		"server { listen 127.0.0.1:@PORT@ reuseport; location /hello { default_type application/json; return 200 '{\"ok\":true}'; } }" \
		"$1"
}

nginx_proxy() { # upstream workers
	_nginx_run "$TMP/nginx-proxy-$(echo "$1" | tr ':.' '__')-$2" \
		"upstream up { server $1; keepalive 128; }
  server { listen 127.0.0.1:@PORT@ reuseport;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection \"\";
                 proxy_buffering off; } }" \
		"$2"
}

nginx_stop() {
	[ -n "${NGINX_PID:-}" ] && stop_pid "$NGINX_PID"
	NGINX_PID=""
}
