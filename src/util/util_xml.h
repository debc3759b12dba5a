/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * util_xml.h: safe XML parsing, XPath and attribute helpers, and a
 * libvirt-style serialiser for element subtrees
 */
#pragma once

#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "internal.h"
#include "util_buf.h"

/* Documents larger than this are refused before parsing. */
#define XSNAP_XML_MAX_SIZE (10 * 1024 * 1024)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlXPathContext, xmlXPathFreeContext);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlXPathObject, xmlXPathFreeObject);

/*
 * Parses @xml without network access, DTD loading or entity
 * substitution; a document type declaration is refused. @docName names
 * the document in parse errors (VIR_ERR_XML_DETAIL, with the line).
 * When @rootName is not NULL the root element must have that name.
 * When @ctxt is not NULL it receives an XPath context whose node is the
 * root element. Returns the document (caller frees) or NULL with an
 * error reported.
 */
xmlDocPtr xsnapXMLParseString(const char *xml, const char *docName,
                              const char *rootName, xmlXPathContextPtr *ctxt)
    XSNAP_NONNULL(1, 2);

/* Makes an XPath context for @doc positioned at @node; NULL on error. */
xmlXPathContextPtr xsnapXMLXPathContextNew(xmlDocPtr doc, xmlNodePtr node);

/*
 * Validates @doc against the Relax-NG schema @schemaPath. Reports
 * VIR_ERR_XML_INVALID_SCHEMA with libxml2's explanation on failure.
 */
int xsnapXMLValidateSchema(xmlDocPtr doc, const char *schemaPath)
    XSNAP_NONNULL(1, 2);

/*
 * XPath helpers, relative to ctxt->node, in libvirt's manner: the
 * string helpers return NULL both when nothing matches and when the
 * result is the empty string.
 */
char *xsnapXPathString(const char *xpath, xmlXPathContextPtr ctxt);
/* 0 on success, -1 if missing or empty, -2 if not a base-10 number. */
int xsnapXPathLongLong(const char *xpath, xmlXPathContextPtr ctxt,
                       long long *value);
int xsnapXPathInt(const char *xpath, xmlXPathContextPtr ctxt, int *value);
xmlNodePtr xsnapXPathNode(const char *xpath, xmlXPathContextPtr ctxt);
/* Returns the number of nodes (with *list allocated when > 0, caller
 * frees the array only) or -1 with an error reported. */
int xsnapXPathNodeSet(const char *xpath, xmlXPathContextPtr ctxt,
                      xmlNodePtr **list);

/* Runs the XPath helpers relative to @node and restores ctxt->node. */
#define XSNAP_XPATH_NODE_SAVE(ctxt) \
    xmlNodePtr xsnapSavedNode_ = (ctxt)->node
#define XSNAP_XPATH_NODE_RESTORE(ctxt) \
    ((ctxt)->node = xsnapSavedNode_)

typedef enum {
    XSNAP_XML_PROP_NONE = 0,
    XSNAP_XML_PROP_REQUIRED = 1 << 0,  /* a missing attribute is an error */
    XSNAP_XML_PROP_NONZERO = 1 << 1,   /* the value 0 is refused */
} xsnapXMLPropFlags;

/* The attribute's value (caller frees), "" if empty, NULL if absent.
 * Like libvirt (xmlGetProp), an attribute's namespace is not looked at. */
char *xsnapXMLPropString(xmlNodePtr node, const char *name);

/*
 * Converts attribute @name of @node with @strToInt. Returns 1 and sets
 * *result when present and valid, 0 when absent (and not REQUIRED;
 * *result is then 0), -1 with VIR_ERR_XML_ERROR reported naming the
 * attribute and the element.
 */
int xsnapXMLPropEnum(xmlNodePtr node, const char *name,
                     int (*strToInt)(const char *), unsigned int flags,
                     int *result);
/* As xsnapXMLPropEnum, but *result is @defaultResult when absent. */
int xsnapXMLPropEnumDefault(xmlNodePtr node, const char *name,
                            int (*strToInt)(const char *), unsigned int flags,
                            int *result, int defaultResult);
/* An unsigned decimal attribute, same return convention. */
int xsnapXMLPropUInt(xmlNodePtr node, const char *name, unsigned int flags,
                     unsigned int *result);

typedef enum {
    /* Keep passwords and cookies: without it they are left out the way
     * libvirt's domain formatter leaves them out without its SECURE flag. */
    XSNAP_XML_FORMAT_SECURE = 1 << 0,
} xsnapXMLFormatFlags;

/*
 * Writes the subtree at @node into @buf at the buffer's indent, one
 * element per line indented by two spaces, attributes in single quotes,
 * comments and processing instructions left out. The root element is
 * renamed to @rootName when that is not NULL.
 */
void xsnapXMLFormatNode(xsnapBuf *buf, xmlNodePtr node, const char *rootName,
                        unsigned int flags)
    XSNAP_NONNULL(1, 2);

/* Returns the subtree at @node as a string formatted as above (caller frees). */
char *xsnapXMLNodeToString(xmlNodePtr node, const char *rootName,
                           unsigned int flags)
    XSNAP_NONNULL(1);

/*
 * Parses @xml (one element) and writes it into @buf with
 * xsnapXMLFormatNode. Returns 0, or -1 with an error reported.
 */
int xsnapXMLFormatString(xsnapBuf *buf, const char *xml, const char *rootName,
                         unsigned int flags)
    XSNAP_NONNULL(1, 2);
