# Sourced by the tests: mkmeta DIR [CPUS] writes a metadata directory for
# the synthetic events (vtest/vtest_event id 1000, vtest/vtest_big id 1001)
# with the 64-bit kernel's header_page and header_event.

mkmeta() {
	local d=$1 cpus=${2:-2} tab
	tab=$(printf '\t')
	mkdir -p "$d/events/vtest/vtest_event" "$d/events/vtest/vtest_big" \
		"$d/events/ftrace/print"
	cat > "$d/header_page" <<EOT
${tab}field: u64 timestamp;${tab}offset:0;${tab}size:8;${tab}signed:0;
${tab}field: local_t commit;${tab}offset:8;${tab}size:8;${tab}signed:1;
${tab}field: int overwrite;${tab}offset:8;${tab}size:1;${tab}signed:1;
${tab}field: char data;${tab}offset:16;${tab}size:4080;${tab}signed:1;
EOT
	cat > "$d/header_event" <<EOT
# compressed entry header
${tab}type_len    :    5 bits
${tab}time_delta  :   27 bits
${tab}array       :   32 bits

${tab}padding     : type == 29
${tab}time_extend : type == 30
${tab}time_stamp : type == 31
${tab}data max type_len  == 28
EOT
	common="${tab}field:unsigned short common_type;${tab}offset:0;${tab}size:2;${tab}signed:0;
${tab}field:unsigned char common_flags;${tab}offset:2;${tab}size:1;${tab}signed:0;
${tab}field:unsigned char common_preempt_count;${tab}offset:3;${tab}size:1;${tab}signed:0;
${tab}field:int common_pid;${tab}offset:4;${tab}size:4;${tab}signed:1;
"
	cat > "$d/events/vtest/vtest_event/format" <<EOT
name: vtest_event
ID: 1000
format:
$common
${tab}field:unsigned int seq;${tab}offset:8;${tab}size:4;${tab}signed:0;
${tab}field:unsigned int cpu_id;${tab}offset:12;${tab}size:4;${tab}signed:0;
${tab}field:unsigned long long value;${tab}offset:16;${tab}size:8;${tab}signed:0;

print fmt: "seq=%u cpu=%u value=%llu", REC->seq, REC->cpu_id, REC->value
EOT
	cat > "$d/events/vtest/vtest_big/format" <<EOT
name: vtest_big
ID: 1001
format:
$common
${tab}field:unsigned int seq;${tab}offset:8;${tab}size:4;${tab}signed:0;
${tab}field:unsigned int cpu_id;${tab}offset:12;${tab}size:4;${tab}signed:0;
${tab}field:unsigned long long value;${tab}offset:16;${tab}size:8;${tab}signed:0;
${tab}field:char msg[120];${tab}offset:24;${tab}size:120;${tab}signed:0;

print fmt: "seq=%u cpu=%u value=%llu msg=%s", REC->seq, REC->cpu_id, REC->value, REC->msg
EOT
	cat > "$d/events/ftrace/print/format" <<EOT
name: print
ID: 5
format:
${tab}field:unsigned short common_type;${tab}offset:0;${tab}size:2;${tab}signed:0;
${tab}field:unsigned char common_flags;${tab}offset:2;${tab}size:1;${tab}signed:0;
${tab}field:unsigned char common_preempt_count;${tab}offset:3;${tab}size:1;${tab}signed:0;
${tab}field:int common_pid;${tab}offset:4;${tab}size:4;${tab}signed:1;

${tab}field:unsigned long ip;${tab}offset:8;${tab}size:8;${tab}signed:0;
${tab}field:char buf[];${tab}offset:16;${tab}size:0;${tab}signed:1;

print fmt: "%ps: %s", (void *)REC->ip, REC->buf
EOT
	printf 'ffffffff81000000 T _stext\nffffffff81001000 T vtest_func\n' \
		> "$d/kallsyms"
	printf '0xffffffff82000000 : "vtest %%d\\n"\n' > "$d/printk_formats"
	printf '100 vtest-cpu0\n101 vtest-cpu1\n102 vtest-cpu2\n103 vtest-cpu3\n' \
		> "$d/saved_cmdlines"
	cat > "$d/info" <<EOT
# written by tests/meta.sh
cpus=$cpus
page_size=4096
trace_clock=[local] global counter uptime perf mono mono_raw boot x86-tsc
uname=Linux vtest-guest 6.1.0-56-amd64 #1 SMP PREEMPT_DYNAMIC x86_64
kernel_release=6.1.0-56-amd64
EOT
}
