/* modbus_types.h - the codecs' own vocabulary of Modbus registers: the
 * tables, the value types and word/byte orders, and their names.  The
 * configuration (daemon/config.h) builds its points from these; a codec
 * includes this header, never the configuration. */
#ifndef CC_MODBUS_TYPES_H
#define CC_MODBUS_TYPES_H

enum cc_table { CC_TABLE_COIL, CC_TABLE_DISCRETE, CC_TABLE_HOLDING, CC_TABLE_INPUT };

enum cc_regtype {
	CC_T_BOOL, CC_T_INT16, CC_T_UINT16, CC_T_INT32, CC_T_UINT32,
	CC_T_INT64, CC_T_UINT64, CC_T_FLOAT32, CC_T_FLOAT64,
};

/*
 * Word and byte order, named by the 32-bit pattern.  A = most significant
 * byte.  For 64-bit types the same four choices apply: ABCD = ABCDEFGH (big
 * endian), CDAB = GHEFCDAB (words reversed), BADC = BADCFEHG (bytes swapped
 * in each word), DCBA = HGFEDCBA (little endian).  16-bit types honour only
 * the byte swap (BADC/DCBA swap the two bytes).
 */
enum cc_order { CC_ORDER_ABCD, CC_ORDER_CDAB, CC_ORDER_BADC, CC_ORDER_DCBA };

/* The names, NULL-terminated, indexed by the enums (the configuration's
 * schema accepts exactly these).  The 8-letter order names map onto the
 * same four orders (index % 4). */
extern const char *const modbus_table_names[];
extern const char *const modbus_type_names[];
extern const char *const modbus_order_names[];

const char *table_name(enum cc_table t);
const char *regtype_name(enum cc_regtype t);
const char *order_name(enum cc_order o, enum cc_regtype t);
/* Number of 16-bit registers a type occupies (bool: 1; on coils: 1 bit). */
int regtype_words(enum cc_regtype t);

#endif
