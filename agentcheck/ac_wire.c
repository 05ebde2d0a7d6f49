/* ac_wire: a reply decoded with the contract (A2): the raw wire walked field
 * by field against proto/agent.proto's descriptors, so that a field the
 * contract does not know, a field sent with the wrong wire type (another
 * stack's different field numbering) or a field the check needs but did not
 * get is named, not silently ignored. */
#include <protobuf-c/protobuf-c.h>
#include <stdio.h>
#include <string.h>

#include "ac_internal.h"

static int wire_type_of(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 1;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
		return 2;
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
		return 5;
	default:
		return 0; /* varints: ints, bool, enum */
	}
}

static const char *wire_name(int wt)
{
	static const char *const n[] = { "varint", "fixed64", "len", "group-start", "group-end", "fixed32" };
	return wt >= 0 && wt <= 5 ? n[wt] : "invalid";
}

static bool varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (*pos >= len)
			return false;
		uint8_t b = p[(*pos)++];
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

static void append(char *buf, size_t len, const char *fmt, unsigned a, const char *b, const char *c)
{
	size_t k = strlen(buf);
	if (k + 4 >= len)
		return;
	snprintf(buf + k, len - k, "%s", k ? ", " : "");
	k = strlen(buf);
	snprintf(buf + k, len - k, fmt, a, b, c);
}

ProtobufCMessage *ac_wire_decode(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
				 const char *required, ac_wire_report *r)
{
	memset(r, 0, sizeof(*r));
	if (!desc)
		return NULL;
	uint32_t seen[64];
	size_t n_seen = 0;
	size_t pos = 0;
	bool walk_ok = true;
	while (pos < len && walk_ok) {
		uint64_t tag, v;
		if (!varint(data, len, &pos, &tag)) {
			walk_ok = false;
			break;
		}
		unsigned num = (unsigned)(tag >> 3);
		int wt = (int)(tag & 7);
		switch (wt) {
		case 0:
			walk_ok = varint(data, len, &pos, &v);
			break;
		case 1:
			walk_ok = len - pos >= 8;
			pos += 8;
			break;
		case 2:
			walk_ok = varint(data, len, &pos, &v) && v <= len - pos;
			pos += walk_ok ? (size_t)v : 0;
			break;
		case 5:
			walk_ok = len - pos >= 4;
			pos += 4;
			break;
		default:
			walk_ok = false;
		}
		if (!walk_ok || num == 0)
			break;
		if (n_seen < 64)
			seen[n_seen++] = num;
		const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(desc, num);
		if (!f) {
			bool dup = false;
			for (size_t i = 0; i + 1 < n_seen; i++)
				dup |= seen[i] == num;
			if (!dup)
				append(r->unknown, sizeof(r->unknown), "%u:%s%s", num, wire_name(wt), "");
		} else if (wire_type_of(f) != wt && !(f->label == PROTOBUF_C_LABEL_REPEATED && wt == 2)) {
			append(r->mismatched, sizeof(r->mismatched), "%u %s: expected %s", num, f->name,
			       wire_name(wire_type_of(f)));
			size_t k = strlen(r->mismatched);
			snprintf(r->mismatched + k, sizeof(r->mismatched) - k, ", got %s", wire_name(wt));
		}
	}
	/* fields the check needs (proto3: absent = at its default) */
	if (required) {
		char names[256];
		snprintf(names, sizeof(names), "%s", required);
		char *save = NULL;
		for (char *name = strtok_r(names, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
			const ProtobufCFieldDescriptor *f = NULL;
			for (unsigned i = 0; i < desc->n_fields; i++)
				if (!strcmp(desc->fields[i].name, name))
					f = &desc->fields[i];
			bool present = false;
			for (size_t i = 0; f && i < n_seen; i++)
				present |= seen[i] == f->id;
			if (!present)
				append(r->missing, sizeof(r->missing), "%u %s%s", f ? f->id : 0, name, "");
		}
	}
	ProtobufCMessage *m = walk_ok ? protobuf_c_message_unpack(desc, NULL, len, data) : NULL;
	r->parse_ok = m != NULL;
	return m;
}

void ac_wire_summary(const ac_wire_report *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s%s%s%s", r->parse_ok ? "" : "does not parse; ",
		 r->unknown[0] ? "unknown fields " : "", r->unknown, r->unknown[0] ? "; " : "",
		 r->mismatched[0] ? "wrong wire types " : "", r->mismatched,
		 r->missing[0] ? (r->mismatched[0] ? "; missing " : "missing ") : "", r->missing);
}

bool ac_wire_clean(const ac_wire_report *r)
{
	return r->parse_ok && !r->unknown[0] && !r->mismatched[0] && !r->missing[0];
}
