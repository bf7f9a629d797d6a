#!/usr/bin/env bats
# bats file_tags=root
# Podman 4.3.1 with a network (a CNI bridge of the test's own, host-local addresses, no NAT)
# through ckpt's own final dump (issue 15): Podman puts the container into a netns it made
# (/run/netns/cni-...), so runc's DUMP carries `external net[INODE]:extRootNetNS`; ckpt writes
# netns-<id>.img with that key (docs/restore.md) instead of handing the DUMP to CRIU, and
# `podman container restore` (CRIU 4.2) puts the container into the new netns Podman made for
# it, with the same address.  ckpt's criu front-end is first in PATH, as in container-podman.bats.
# Packages: CKPT_PODMAN_DEPS=1 tests/install-deps.sh (containernetworking-plugins comes with
# podman).

load helpers
load podman-helpers

P=ckpt-cnp-

setup_file() {
	command -v podman >/dev/null || return 0
	podman_ctr_setup_file
	local T=$BATS_FILE_TMPDIR
	BR="ckbr$$"
	echo "$BR" >"$T/bridge"
	mkdir -p "$T/cni" "$T/cni-ipam"
	cat >"$T/cni/ckptnet.conflist" <<-EOF
		{ "cniVersion": "0.4.0", "name": "ckptnet",
		  "plugins": [ { "type": "bridge", "bridge": "$BR", "isGateway": true, "ipMasq": false,
		    "ipam": { "type": "host-local", "dataDir": "$T/cni-ipam",
		      "ranges": [[{ "subnet": "10.89.77.0/24" }]], "routes": [{ "dst": "0.0.0.0/0" }] } } ] }
	EOF
	cat >>"$T/containers.conf" <<-EOF

		[network]
		network_backend = "cni"
		network_config_dir = "$T/cni"
		cni_plugin_dirs = ["/usr/lib/cni"]
	EOF
}

teardown_file() {
	command -v podman >/dev/null || return 0
	podman_ctr_teardown_file
	[ ! -s "$BATS_FILE_TMPDIR/bridge" ] || ip link del "$(cat "$BATS_FILE_TMPDIR/bridge")" 2>/dev/null || true
}

setup() {
	podman_ctr_setup
	[ -x /usr/lib/cni/bridge ] || skip "test requires the CNI plugins (containernetworking-plugins)"
	# a leftover bridge with the test's subnet would take its replies
	! ip -4 -o addr | grep -v "$(cat "$BATS_FILE_TMPDIR/bridge")" | grep -q ' 10\.89\.77\.' ||
		fail "another interface has an address in 10.89.77.0/24: $(ip -4 -o addr | grep ' 10\.89\.77\.')"
}

teardown() {
	[ -v C ] || return 0
	podman rm -f -t0 "$C" >/dev/null 2>&1 || true
}

# addr NAME: NAME's IPv4 address on eth0.
addr() {
	podman exec "$1" ip -4 -o addr show eth0 | awk '{print $4}'
}

# last NAME: the last counter value in NAME's log.
last() {
	podman logs "$1" | tail -n1
}

@test "podman run --network (CNI bridge): --pre-checkpoint, then ckpt's own final dump on that chain (external netns key), restore by CRIU 4.2 into Podman's new netns: same address, the gateway answers, the counter goes on" {
	pm run -d --network ckptnet --name "$C" "localhost/${P}busybox" \
		sh -c 'trap "exit 0" TERM; i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done' >/dev/null 3>&-
	CPID=$(podman inspect -f '{{.State.Pid}}' "$C")
	BUNDLE=$(podman inspect -f '{{.StaticDir}}' "$C")
	local a0 ns0 n0
	a0=$(addr "$C")
	[[ "$a0" == 10.89.77.* ]]
	ns0=$(stat -L -c %i "/proc/$CPID/ns/net")
	[ "$ns0" != "$(stat -L -c %i /proc/self/ns/net)" ]
	run -0 podman exec "$C" ping -c1 -W2 10.89.77.1
	run -0 pm container checkpoint --pre-checkpoint "$C"
	run -0 pm container checkpoint --with-previous --keep "$C"
	[ "$(podman inspect -f '{{.State.Status}}' "$C")" = exited ]
	grep -qxF "ckpt's criu front-end: DUMP of container pid $CPID by ckpt's own final dump, parent ../pre-checkpoint" "$BUNDLE/ckpt-front-end.log" ||
		fail "the DUMP was not ckpt's: $(cat "$BUNDLE/ckpt-front-end.log" 2>&1)"
	grep -q "net namespace $ns0 is external: netns-[0-9]*.img holds its key extRootNetNS" "$BUNDLE/dump.log"
	n0=$(last "$C")
	run -0 pm container restore --keep "$C"
	grep -q "Restore finished successfully" "$BUNDLE/restore.log"
	[ "$(podman inspect -f '{{.State.Status}}' "$C")" = running ]
	CPID=$(podman inspect -f '{{.State.Pid}}' "$C")
	# the netns Podman made for the restore (a new veth into the bridge), the address kept
	[ "$(stat -L -c %i "/proc/$CPID/ns/net")" != "$(stat -L -c %i /proc/self/ns/net)" ]
	[ "$(addr "$C")" = "$a0" ]
	run -0 podman exec "$C" ping -c1 -W2 10.89.77.1
	retry 100 0.1 bash -c "[ \$(podman logs '$C' | tail -n1) -gt $((n0 + 2)) ]"
	# counted on from the dumped value, not from 1
	podman logs "$C" | grep -qx "$((n0 + 1))"
}
