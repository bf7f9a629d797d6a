// SPDX-License-Identifier: MIT
/*
 * Image files to JSON (see image-json.h): a generic walk over protobuf-c
 * descriptors plus crit's presentation rules for `--pretty`.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/file.h"
#include "common/xalloc.h"
#include "proto/img.h"
#include "runtime-glue/image-json.h"

#define PAGE_SIZE_BYTES 4096u

struct flag_name {
	const char *name;
	uint64_t bit;
};

/* clang-format off */
static const struct flag_name mmap_prot[] = {
	{ "PROT_READ", 0x1 }, { "PROT_WRITE", 0x2 }, { "PROT_EXEC", 0x4 }, { NULL, 0 },
};
static const struct flag_name mmap_flags[] = {
	{ "MAP_SHARED", 0x1 }, { "MAP_PRIVATE", 0x2 }, { "MAP_ANON", 0x20 },
	{ "MAP_GROWSDOWN", 0x100 }, { NULL, 0 },
};
static const struct flag_name vma_status[] = {
	{ "VMA_AREA_REGULAR", 1u << 0 }, { "VMA_AREA_STACK", 1u << 1 },
	{ "VMA_AREA_VSYSCALL", 1u << 2 }, { "VMA_AREA_VDSO", 1u << 3 },
	{ "VMA_AREA_HEAP", 1u << 5 }, { "VMA_FILE_PRIVATE", 1u << 6 },
	{ "VMA_FILE_SHARED", 1u << 7 }, { "VMA_ANON_SHARED", 1u << 8 },
	{ "VMA_ANON_PRIVATE", 1u << 9 }, { "VMA_AREA_SYSVIPC", 1u << 10 },
	{ "VMA_AREA_SOCKET", 1u << 11 }, { "VMA_AREA_VVAR", 1u << 12 },
	{ "VMA_AREA_AIORING", 1u << 13 }, { "VMA_AREA_MEMFD", 1u << 14 },
	{ "VMA_AREA_SHSTK", 1u << 15 }, { "VMA_AREA_GUARD", 1u << 16 },
	{ "VMA_AREA_UPROBES", 1u << 17 }, { "VMA_UNSUPP", 1u << 31 }, { NULL, 0 },
};
static const struct flag_name rfile_flags[] = {
	{ "O_WRONLY", 01 }, { "O_RDWR", 02 }, { "O_CREAT", 0100 }, { "O_EXCL", 0200 },
	{ "O_NOCTTY", 0400 }, { "O_TRUNC", 01000 }, { "O_APPEND", 02000 },
	{ "O_NONBLOCK", 04000 }, { "O_DSYNC", 010000 }, { "FASYNC", 020000 },
	{ "O_DIRECT", 040000 }, { "O_LARGEFILE", 0100000 }, { "O_DIRECTORY", 0200000 },
	{ "O_NOFOLLOW", 0400000 }, { "O_NOATIME", 01000000 }, { "O_CLOEXEC", 02000000 },
	{ NULL, 0 },
};
static const struct flag_name pmap_flags[] = {
	{ "PE_PARENT", 1 }, { "PE_LAZY", 2 }, { "PE_PRESENT", 4 }, { NULL, 0 },
};
static const struct flag_name seals_flags[] = {
	{ "F_SEAL_SEAL", 1 }, { "F_SEAL_SHRINK", 2 }, { "F_SEAL_GROW", 4 },
	{ "F_SEAL_WRITE", 8 }, { "F_SEAL_FUTURE_WRITE", 0x10 }, { NULL, 0 },
};
/* CRIU's TASK_* values for task_core_entry.task_state. */
static const struct flag_name task_states[] = {
	{ "Alive", 1 }, { "Dead", 2 }, { "Stopped", 3 }, { "Zombie", 6 }, { NULL, 0 },
};

enum fmt_kind { FMT_PLAIN, FMT_HEX, FMT_FLAGS, FMT_DICT, FMT_DEV };

/* Fields with crit's (criu).hex / flags / dict options, by message and field name. */
static const struct {
	const char *msg, *field;
	enum fmt_kind kind;
	const struct flag_name *names;
} fmt_rules[] = {
	{ "mm_entry", "mm_start_code", FMT_HEX, NULL }, { "mm_entry", "mm_end_code", FMT_HEX, NULL },
	{ "mm_entry", "mm_start_data", FMT_HEX, NULL }, { "mm_entry", "mm_end_data", FMT_HEX, NULL },
	{ "mm_entry", "mm_start_stack", FMT_HEX, NULL }, { "mm_entry", "mm_start_brk", FMT_HEX, NULL },
	{ "mm_entry", "mm_brk", FMT_HEX, NULL }, { "mm_entry", "mm_arg_start", FMT_HEX, NULL },
	{ "mm_entry", "mm_arg_end", FMT_HEX, NULL }, { "mm_entry", "mm_env_start", FMT_HEX, NULL },
	{ "mm_entry", "mm_env_end", FMT_HEX, NULL },
	{ "vma_entry", "start", FMT_HEX, NULL }, { "vma_entry", "end", FMT_HEX, NULL },
	{ "vma_entry", "prot", FMT_FLAGS, mmap_prot }, { "vma_entry", "flags", FMT_FLAGS, mmap_flags },
	{ "vma_entry", "status", FMT_FLAGS, vma_status }, { "vma_entry", "madv", FMT_HEX, NULL },
	{ "vma_entry", "fdflags", FMT_HEX, NULL },
	{ "pagemap_entry", "vaddr", FMT_HEX, NULL }, { "pagemap_entry", "flags", FMT_FLAGS, pmap_flags },
	{ "task_core_entry", "task_state", FMT_DICT, task_states },
	{ "task_core_entry", "blk_sigset", FMT_HEX, NULL },
	{ "task_core_entry", "blk_sigset_extended", FMT_HEX, NULL },
	{ "thread_info_x86", "clear_tid_addr", FMT_HEX, NULL },
	{ "thread_info_x86", "gpregs", FMT_HEX, NULL },
	{ "sa_entry", "sigaction", FMT_HEX, NULL }, { "sa_entry", "flags", FMT_HEX, NULL },
	{ "sa_entry", "restorer", FMT_HEX, NULL }, { "sa_entry", "mask", FMT_HEX, NULL },
	{ "sa_entry", "mask_extended", FMT_HEX, NULL },
	{ "reg_file_entry", "flags", FMT_FLAGS, rfile_flags },
	{ "pipe_entry", "flags", FMT_HEX, NULL },
	{ "memfd_file_entry", "flags", FMT_FLAGS, rfile_flags },
	{ "memfd_inode_entry", "seals", FMT_FLAGS, seals_flags },
	{ "mnt_entry", "flags", FMT_HEX, NULL }, { "mnt_entry", "sb_flags", FMT_HEX, NULL },
	{ "mnt_entry", "root_dev", FMT_DEV, NULL },
};
/* clang-format on */

struct blob {
	const void *data;
	size_t len;
};

static void msg_json(struct oci_json *j, const ProtobufCMessage *m, bool pretty, bool hex,
		     const struct blob *extra);

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/*
 * Base64 as crit writes bytes (Python's base64.encodebytes): a newline after
 * every 76 output characters and at the end; empty input gives "".
 */
static void base64_json(struct oci_json *j, const uint8_t *d, size_t len)
{
	size_t groups = (len + 2) / 3, out_len = groups * 4;
	_cleanup_free_ char *out = xmalloc(out_len + out_len / 76 + 2);
	size_t o = 0, col = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16;
		char q[4];

		if (i + 1 < len)
			v |= (uint32_t)d[i + 1] << 8;
		if (i + 2 < len)
			v |= d[i + 2];
		q[0] = b64[(v >> 18) & 63];
		q[1] = b64[(v >> 12) & 63];
		q[2] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		q[3] = i + 2 < len ? b64[v & 63] : '=';
		for (int k = 0; k < 4; k++) {
			out[o++] = q[k];
			if (++col == 76) {
				out[o++] = '\n';
				col = 0;
			}
		}
	}
	if (col)
		out[o++] = '\n';
	oci_json_string_len(j, out, o);
}

static void hex_json(struct oci_json *j, bool negative, uint64_t magnitude)
{
	char s[32];

	snprintf(s, sizeof(s), "%s0x%" PRIx64, negative ? "-" : "", magnitude);
	oci_json_string(j, s);
}

/* "NAME | NAME | 0xREST" as crit's map_flags (empty string for 0). */
static void flags_json(struct oci_json *j, uint64_t v, const struct flag_name *names)
{
	_cleanup_free_ char *s = xstrdup("");
	uint64_t known = 0;

	for (const struct flag_name *f = names; f->name; f++) {
		known |= f->bit;
		if (v & f->bit) {
			char *t = xasprintf("%s%s%s", s, *s ? " | " : "", f->name);

			free(s);
			s = t;
		}
	}
	if (v & ~known) {
		char *t = xasprintf("%s%s0x%" PRIx64, s, *s ? " | " : "", v & ~known);

		free(s);
		s = t;
	}
	oci_json_string(j, s);
}

static void dict_json(struct oci_json *j, uint64_t v, const struct flag_name *names)
{
	for (const struct flag_name *f = names; f->name; f++)
		if (f->bit == v) {
			oci_json_string(j, f->name);
			return;
		}
	oci_json_uint(j, v);
}

/* One scalar (or message) value stored at p. */
static void value_json(struct oci_json *j, const ProtobufCFieldDescriptor *f, const void *p,
		       bool pretty, bool hex, enum fmt_kind kind, const struct flag_name *names)
{
	bool is_signed = false;
	uint64_t u = 0;
	int64_t s = 0;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		s = *(const int32_t *)p;
		is_signed = true;
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		s = *(const int64_t *)p;
		is_signed = true;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		u = *(const uint32_t *)p;
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		u = *(const uint64_t *)p;
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		oci_json_double(j, *(const float *)p);
		return;
	case PROTOBUF_C_TYPE_DOUBLE:
		oci_json_double(j, *(const double *)p);
		return;
	case PROTOBUF_C_TYPE_BOOL:
		oci_json_bool(j, *(const protobuf_c_boolean *)p);
		return;
	case PROTOBUF_C_TYPE_ENUM: {
		int v = *(const int *)p;
		const ProtobufCEnumValue *ev =
			protobuf_c_enum_descriptor_get_value(f->descriptor, v);

		if (ev)
			oci_json_string(j, ev->name);
		else
			oci_json_int(j, v);
		return;
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *str = *(char *const *)p;

		oci_json_string(j, str ? str : "");
		return;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;

		base64_json(j, b->data, b->len);
		return;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		msg_json(j, *(ProtobufCMessage *const *)p, pretty, hex, NULL);
		return;
	}

	if (pretty && hex) {
		if (is_signed)
			hex_json(j, s < 0, s < 0 ? 0 - (uint64_t)s : (uint64_t)s);
		else
			hex_json(j, false, u);
		return;
	}
	if (pretty && !is_signed && kind == FMT_FLAGS) {
		flags_json(j, u, names);
		return;
	}
	if (pretty && !is_signed && kind == FMT_DEV) { /* kernel dev: major << 20 | minor */
		char dev[32];

		snprintf(dev, sizeof(dev), "%llu:%llu", (unsigned long long)(u >> 20),
			 (unsigned long long)(u & 0xfffff));
		oci_json_string(j, dev);
		return;
	}
	if (pretty && !is_signed && kind == FMT_DICT) {
		dict_json(j, u, names);
		return;
	}
	if (is_signed)
		oci_json_int(j, s);
	else
		oci_json_uint(j, u);
}

static size_t elem_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_ENUM:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	return 0;
}

/* Is an optional (or proto3 singular) field present? */
static bool present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)m;

	if (f->label == PROTOBUF_C_LABEL_REQUIRED)
		return true;
	if (f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING) {
		const void *ptr = *(const void *const *)(base + f->offset);

		/* An absent string may point at its default value. */
		return ptr && ptr != f->default_value;
	}
	if (f->quantifier_offset)
		return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
	return true;
}

static enum fmt_kind field_fmt(const ProtobufCMessageDescriptor *md,
			       const ProtobufCFieldDescriptor *f, const struct flag_name **names)
{
	for (size_t i = 0; i < ARRAY_SIZE(fmt_rules); i++)
		if (!strcmp(fmt_rules[i].msg, md->name) && !strcmp(fmt_rules[i].field, f->name)) {
			*names = fmt_rules[i].names;
			return fmt_rules[i].kind;
		}
	*names = NULL;
	return FMT_PLAIN;
}

/* A message as an object; `extra` (pipes-data content) goes last, as crit's "extra". */
static void msg_json(struct oci_json *j, const ProtobufCMessage *m, bool pretty, bool hex,
		     const struct blob *extra)
{
	const ProtobufCMessageDescriptor *md;
	const char *base = (const char *)m;

	oci_json_map_open(j);
	if (!m) {
		oci_json_map_close(j);
		return;
	}
	md = m->descriptor;
	for (unsigned i = 0; i < md->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &md->fields[i];
		const struct flag_name *names;
		enum fmt_kind kind = field_fmt(md, f, &names);
		bool fhex = hex || kind == FMT_HEX;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			const char *arr = *(const char *const *)(base + f->offset);
			size_t sz = elem_size(f);

			if (!n)
				continue;
			oci_json_key(j, f->name);
			oci_json_array_open(j);
			for (size_t k = 0; k < n; k++)
				value_json(j, f, arr + k * sz, pretty, fhex, kind, names);
			oci_json_array_close(j);
			continue;
		}
		if (!present(m, f))
			continue;
		oci_json_key(j, f->name);
		value_json(j, f, base + f->offset, pretty, fhex, kind, names);
	}
	if (extra) {
		oci_json_key(j, "extra");
		base64_json(j, extra->data, extra->len);
	}
	oci_json_map_close(j);
}

/* see image-json.h */
void glue_message_json(struct oci_json *j, const ProtobufCMessage *msg, bool pretty)
{
	msg_json(j, msg, pretty, false, NULL);
}

static int pages_json(struct oci_json *j, const char *name, uint64_t size, struct ck_err **err)
{
	if (size % PAGE_SIZE_BYTES)
		return ck_err_set(err, 0,
				  "%s: offset %" PRIu64 ": raw pages file of %" PRIu64
				  " bytes ends inside a page",
				  name, size - size % PAGE_SIZE_BYTES, size);
	oci_json_map_open(j);
	oci_json_key(j, "magic");
	oci_json_string(j, "PAGES");
	oci_json_key(j, "size");
	oci_json_uint(j, size);
	oci_json_key(j, "pages");
	oci_json_uint(j, size / PAGE_SIZE_BYTES);
	oci_json_map_close(j);
	return 0;
}

static int entries_json(struct oci_json *j, struct img *img, bool pretty, struct ck_err **err)
{
	oci_json_map_open(j);
	oci_json_key(j, "magic");
	oci_json_string(j, img_type_name(img_type(img)));
	oci_json_key(j, "entries");
	oci_json_array_open(j);
	for (;;) {
		void *m = NULL;
		const void *extra;
		size_t extra_len;

		if (img_read_entry(img, &m, err))
			return -1;
		if (!m)
			break;
		extra = img_extra(img, &extra_len);
		if (extra) {
			struct blob bl = { extra, extra_len };

			msg_json(j, m, pretty, false, &bl);
		} else {
			glue_message_json(j, m, pretty);
		}
		img_free_msg(m);
	}
	oci_json_array_close(j);
	oci_json_map_close(j);
	return 0;
}

#define CKPT_FILE_MAX (1U << 20) /* ckpt's text files are a few lines per task */

/* ckpt-layer: "ckpt-layer 1", "tracker NAME", "task VPID PID START_TIME" per task. */
static int layer_meta_json(struct oci_json *j, const char *name, FILE *f, struct ck_err **err)
{
	_cleanup_free_ char *line = NULL;
	char tracker[64] = "";
	size_t n = 0, lineno = 1;
	unsigned version;
	bool tasks = false;

	if (getline(&line, &n, f) <= 0 || sscanf(line, "ckpt-layer %u", &version) != 1)
		return ck_err_set(err, 0, "%s: line 1: not a ckpt-layer file (no 'ckpt-layer N')",
				  name);
	oci_json_map_open(j);
	oci_json_key(j, "magic");
	oci_json_string(j, "CKPT_LAYER");
	oci_json_key(j, "version");
	oci_json_uint(j, version);
	while (getline(&line, &n, f) > 0) {
		int vpid, pid;
		uint64_t st;

		lineno++;
		if (!tasks && sscanf(line, "tracker %63s", tracker) == 1) {
			oci_json_key(j, "tracker");
			oci_json_string(j, tracker);
		} else if (sscanf(line, "task %d %d %" SCNu64, &vpid, &pid, &st) == 3) {
			if (!tasks) {
				oci_json_key(j, "tasks");
				oci_json_array_open(j);
				tasks = true;
			}
			oci_json_map_open(j);
			oci_json_key(j, "vpid");
			oci_json_int(j, vpid);
			oci_json_key(j, "pid");
			oci_json_int(j, pid);
			oci_json_key(j, "start_time");
			oci_json_uint(j, st);
			oci_json_map_close(j);
		} else {
			return ck_err_set(err, 0, "%s: line %zu: neither 'tracker' nor 'task'",
					  name, lineno);
		}
	}
	if (tasks)
		oci_json_array_close(j);
	oci_json_map_close(j);
	return 0;
}

/*
 * PREFIX-ID.state of the uffd-wp and soft-dirty trackers: "token T starttime S"
 * (PREFIX: uffd, uffd-late, softdirty; the ID follows its last '-'), for
 * uffd-late a list of page ranges after it ("ranges N", N lines "START-END").
 */
static int tracker_state_json(struct oci_json *j, const char *name, FILE *f, struct ck_err **err)
{
	unsigned long long tok, st;
	char prefix[64], hex[20], tail[8];
	size_t nr;
	const char *dash = strrchr(name, '-');
	size_t plen = dash ? (size_t)(dash - name) : 0;
	uint64_t id;

	if (!plen || plen >= sizeof(prefix) || sscanf(dash + 1, "%" SCNu64 "%7s", &id, tail) != 2 ||
	    strcmp(tail, ".state") || fscanf(f, "token %llx starttime %llu", &tok, &st) != 2)
		return ck_err_set(err, 0, "%s: not a tracker state file ('token T starttime S')",
				  name);
	memcpy(prefix, name, plen);
	prefix[plen] = '\0';
	oci_json_map_open(j);
	oci_json_key(j, "magic");
	oci_json_string(j, "CKPT_TRACKER_STATE");
	oci_json_key(j, "tracker");
	oci_json_string(j, prefix);
	oci_json_key(j, "id");
	oci_json_uint(j, id);
	oci_json_key(j, "token");
	snprintf(hex, sizeof(hex), "%016llx", tok);
	oci_json_string(j, hex);
	oci_json_key(j, "start_time");
	oci_json_uint(j, st);
	/* uffd-late: the pages whose presence changed before their protection */
	if (fscanf(f, " ranges %zu", &nr) == 1) {
		oci_json_key(j, "ranges");
		oci_json_array_open(j);
		for (size_t i = 0; i < nr && fscanf(f, " %llx-%llx", &tok, &st) == 2; i++) {
			oci_json_map_open(j);
			oci_json_key(j, "start");
			oci_json_uint(j, tok);
			oci_json_key(j, "end");
			oci_json_uint(j, st);
			oci_json_map_close(j);
		}
		oci_json_array_close(j);
	}
	oci_json_map_close(j);
	return 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/*
 * ckpt's own files in a layer (not CRIU images): ckpt-layer, the trackers'
 * *.state and the hash tracker's ckpt-hash-*.bin.  Returns 1 when @name is
 * not one of them, else 0 or -1.
 */
static int ckpt_file_json(struct oci_json *j, int dirfd, const char *name, struct ck_err **err)
{
	const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	_cleanup_fclose_ FILE *f = NULL;
	struct stat st;
	int fd;

	if (strcmp(base, "ckpt-layer") && !has_suffix(base, ".state") &&
	    !(!strncmp(base, "ckpt-hash-", 10) && has_suffix(base, ".bin")))
		return 1;
	fd = ck_open_regular(dirfd, name, false, err);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return ck_err_set(err, errno, "stat %s", name);
	}
	f = fdopen(fd, "re");
	if (!f) {
		close(fd);
		return ck_err_set(err, errno, "fdopen %s", name);
	}
	if (has_suffix(base, ".bin")) {
		char magic[8];

		if (fread(magic, sizeof(magic), 1, f) != 1 || memcmp(magic, "CKPTHSH1", 8))
			return ck_err_set(err, 0, "%s: offset 0: not a ckpt page-hash file", name);
		oci_json_map_open(j);
		oci_json_key(j, "magic");
		oci_json_string(j, "CKPT_HASHES");
		oci_json_key(j, "size");
		oci_json_uint(j, (uint64_t)st.st_size);
		oci_json_map_close(j);
		return 0;
	}
	if ((uint64_t)st.st_size > CKPT_FILE_MAX)
		return ck_err_set(err, EFBIG, "%s: %" PRIu64 " bytes: too big for a ckpt text file",
				  name, (uint64_t)st.st_size);
	if (!strcmp(base, "ckpt-layer"))
		return layer_meta_json(j, name, f, err);
	return tracker_state_json(j, name, f, err);
}

static int image_json(struct oci_json *j, int dirfd, const char *name, bool pretty,
		      bool tolerate_unsupported, struct ck_err **err)
{
	_cleanup_(img_releasep) struct img *img = NULL;
	struct img_info info;
	int rc = ckpt_file_json(j, dirfd, name, err);

	if (rc <= 0)
		return rc;
	if (img_probe(dirfd, name, &info, err))
		return -1;
	if (info.type == IMG_PAGES)
		return pages_json(j, name, info.size, err);
	if (info.type == IMG_NR) {
		if (!tolerate_unsupported)
			return ck_err_set(err, 0,
					  "%s: %s images (magic 0x%08x) are not supported by ckpt",
					  name, info.magic_name, info.magic);
		oci_json_map_open(j);
		oci_json_key(j, "magic");
		oci_json_string(j, info.magic_name);
		oci_json_key(j, "unsupported");
		oci_json_bool(j, true);
		oci_json_map_close(j);
		return 0;
	}
	img = img_open(dirfd, name, info.type, err);
	if (!img)
		return -1;
	return entries_json(j, img, pretty, err);
}

/* see image-json.h */
int glue_image_json(struct oci_json *j, int dirfd, const char *name, bool pretty,
		    struct ck_err **err)
{
	return image_json(j, dirfd, name, pretty, false, err);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* see image-json.h */
int glue_image_dir_json(struct oci_json *j, int dirfd, bool pretty, struct ck_err **err)
{
	_cleanup_closedir_ DIR *d = NULL;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int dfd, rc = 0;

	dfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return ck_err_set(err, errno, "open directory");
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return ck_err_set(err, errno, "open directory");
	}
	while ((errno = 0, de = readdir(d))) {
		struct stat st;

		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 32;
			names = xreallocarray(names, cap, sizeof(*names));
		}
		names[n++] = xstrdup(de->d_name);
	}
	if (errno)
		rc = ck_err_set(err, errno, "read directory");
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	if (!rc) {
		oci_json_map_open(j);
		for (size_t i = 0; i < n && !rc; i++) {
			oci_json_key(j, names[i]);
			rc = image_json(j, dirfd, names[i], pretty, true, err);
		}
		oci_json_map_close(j);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}
