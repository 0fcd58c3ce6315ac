/* modbus_types.c - names and widths of the Modbus tables, value types and
 * word/byte orders.  Pure. */
#include "modbus_types.h"

#include <stddef.h>

const char *const modbus_table_names[] = { "coil", "discrete", "holding", "input", NULL };
const char *const modbus_type_names[] = { "bool",  "int16",  "uint16",  "int32",   "uint32",
					  "int64", "uint64", "float32", "float64", NULL };
const char *const modbus_order_names[] = { "ABCD",     "CDAB",     "BADC",     "DCBA",
					   "ABCDEFGH", "GHEFCDAB", "BADCFEHG", "HGFEDCBA", NULL };

const char *table_name(enum cc_table t)
{
	return (unsigned)t < 4 ? modbus_table_names[t] : "?";
}

const char *regtype_name(enum cc_regtype t)
{
	return (unsigned)t < 9 ? modbus_type_names[t] : "?";
}

const char *order_name(enum cc_order o, enum cc_regtype t)
{
	if ((unsigned)o >= 4)
		return "?";
	return modbus_order_names[o + (regtype_words(t) == 4 ? 4 : 0)];
}

int regtype_words(enum cc_regtype t)
{
	switch (t) {
	case CC_T_BOOL:
	case CC_T_INT16:
	case CC_T_UINT16:
		return 1;
	case CC_T_INT32:
	case CC_T_UINT32:
	case CC_T_FLOAT32:
		return 2;
	case CC_T_INT64:
	case CC_T_UINT64:
	case CC_T_FLOAT64:
		return 4;
	}
	return 1;
}
