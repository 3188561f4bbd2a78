# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Test certificates for the TLS tests (tests/e2e/test_tls*.sh), sourced
# after topo.sh: they name the topology's addresses.

# make_certs DIR: CA, the edge's certificate (its IPv4 and IPv6 addresses), a client
# certificate, one from another CA, and an expired one from the right CA.
make_certs() {
	local d=$1 ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)

	mkdir -p "$d/ca/new" && touch "$d/ca/index.txt" && echo 01 >"$d/ca/serial"
	openssl req -x509 "${ec[@]}" -keyout "$d/ca.key" -out "$d/ca.crt" -subj /CN=xdpsbc-test-ca -days 2 &&
		openssl req -x509 "${ec[@]}" -keyout "$d/other.key" -out "$d/other.crt" -subj /CN=other-ca -days 2 &&
		openssl req "${ec[@]}" -keyout "$d/edge.key" -out "$d/edge.csr" -subj /CN=edge &&
		printf 'subjectAltName=IP:%s,IP:%s\n' $EDGE_IP $EDGE_V6 >"$d/edge.ext" &&
		openssl x509 -req -in "$d/edge.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
			-days 2 -extfile "$d/edge.ext" -out "$d/edge.crt" &&
		openssl req "${ec[@]}" -keyout "$d/client.key" -out "$d/client.csr" -subj /CN=trunk &&
		openssl x509 -req -in "$d/client.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -days 2 \
			-out "$d/client.crt" &&
		openssl req "${ec[@]}" -keyout "$d/wrong.key" -out "$d/wrong.csr" -subj /CN=wrong &&
		openssl x509 -req -in "$d/wrong.csr" -CA "$d/other.crt" -CAkey "$d/other.key" -CAcreateserial \
			-days 2 -out "$d/wrong.crt" &&
		printf 'subjectAltName=IP:%s\n' $CORE_IP >"$d/core.ext" &&
		openssl req "${ec[@]}" -keyout "$d/core.key" -out "$d/core.csr" -subj /CN=core &&
		openssl x509 -req -in "$d/core.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -days 2 \
			-extfile "$d/core.ext" -out "$d/core.crt" &&
		openssl x509 -req -in "$d/core.csr" -CA "$d/other.crt" -CAkey "$d/other.key" -days 2 \
			-extfile "$d/core.ext" -out "$d/badcore.crt" &&
		openssl req "${ec[@]}" -keyout "$d/old.key" -out "$d/old.csr" -subj /CN=expired &&
		cat >"$d/ca.cnf" <<-EOF2 &&
			[ca]
			default_ca = test
			[test]
			dir = $d/ca
			database = \$dir/index.txt
			new_certs_dir = \$dir/new
			serial = \$dir/serial
			default_md = sha256
			policy = any
			[any]
			commonName = supplied
		EOF2
		openssl ca -batch -config "$d/ca.cnf" -cert "$d/ca.crt" -keyfile "$d/ca.key" \
			-startdate 20200101000000Z -enddate 20200102000000Z -in "$d/old.csr" \
			-out "$d/old.crt" -notext
}
