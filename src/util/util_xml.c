/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * util_xml.c: safe XML parsing, XPath and attribute helpers, and a
 * libvirt-style serialiser for element subtrees
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/relaxng.h>
#include <libxml/xpathInternals.h>

#include "util_xml.h"
#include "util_error.h"

typedef struct _xsnapXMLParseState xsnapXMLParseState;
struct _xsnapXMLParseState {
    bool sawDoctype;
    bool haveError;
    int line;
    int column;
    char *message;
};


/* libxml2 reports every parser error here instead of printing it. The
 * first error is the one that explains the failure. */
static void
xsnapXMLCatchError(void *userData, xmlErrorPtr err)
{
    xmlParserCtxtPtr pctxt = userData;
    xsnapXMLParseState *state;

    if (!pctxt || !err || !(state = pctxt->_private))
        return;
    if (state->haveError || err->level < XML_ERR_ERROR)
        return;
    state->haveError = true;
    state->line = err->line;
    state->column = err->int2;
    state->message = g_strdup(err->message ? err->message : "");
    g_strchomp(state->message);
}


/* Called when the parser meets <!DOCTYPE ...>: stop before any
 * declaration of the internal subset is processed. */
static void
xsnapXMLRefuseDoctype(void *ctx, const xmlChar *name XSNAP_UNUSED,
                      const xmlChar *externalID XSNAP_UNUSED,
                      const xmlChar *systemID XSNAP_UNUSED)
{
    xmlParserCtxtPtr pctxt = ctx;
    xsnapXMLParseState *state = pctxt->_private;

    state->sawDoctype = true;
    xmlStopParser(pctxt);
}


/* Returns line @line (1-based) of @text, without its end of line. */
static char *
xsnapXMLGetLine(const char *text, int line)
{
    const char *p = text;
    const char *end;

    for (; line > 1 && p; line--) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    if (!p)
        return g_strdup("");
    end = p + strcspn(p, "\r\n");
    return g_strndup(p, (size_t)(end - p));
}


static void
xsnapXMLReportParseError(const xsnapXMLParseState *state, const char *xml,
                         const char *docName)
{
    g_autofree char *context = NULL;
    GString *pointer;
    int i;

    if (!state->haveError) {
        xsnapReportError(VIR_ERR_XML_ERROR,
                         _("failed to parse xml document '%1$s'"), docName);
        return;
    }

    context = xsnapXMLGetLine(xml, state->line);
    pointer = g_string_new(NULL);
    for (i = 0; i < state->column - 1 && context[i]; i++)
        g_string_append_c(pointer, context[i] == '\t' ? '\t' : '-');
    g_string_append_c(pointer, '^');

    xsnapReportError(VIR_ERR_XML_DETAIL, _("%1$s:%2$d: %3$s\n%4$s\n%5$s"),
                     docName, state->line, state->message, context,
                     pointer->str);
    g_string_free(pointer, TRUE);
}


xmlXPathContextPtr
xsnapXMLXPathContextNew(xmlDocPtr doc, xmlNodePtr node)
{
    xmlXPathContextPtr ctxt = xmlXPathNewContext(doc);

    if (!ctxt) {
        xsnapReportError(VIR_ERR_NO_MEMORY, "%s",
                         _("cannot create an XPath context"));
        return NULL;
    }
    ctxt->node = node;
    return ctxt;
}


xmlDocPtr
xsnapXMLParseString(const char *xml, const char *docName,
                    const char *rootName, xmlXPathContextPtr *ctxt)
{
    xsnapXMLParseState state = { 0 };
    xmlParserCtxtPtr pctxt = NULL;
    g_autoptr(xmlDoc) doc = NULL;
    xmlNodePtr root;
    size_t len = strlen(xml);

    if (len > XSNAP_XML_MAX_SIZE) {
        xsnapReportError(VIR_ERR_XML_ERROR,
                         _("XML document '%1$s' is too large (%2$zu bytes, at most %3$d allowed)"),
                         docName, len, XSNAP_XML_MAX_SIZE);
        return NULL;
    }

    if (!(pctxt = xmlNewParserCtxt()) || !pctxt->sax) {
        xsnapReportError(VIR_ERR_NO_MEMORY, "%s",
                         _("cannot create an XML parser"));
        xmlFreeParserCtxt(pctxt);
        return NULL;
    }
    pctxt->_private = &state;
    pctxt->sax->serror = xsnapXMLCatchError;
    pctxt->sax->internalSubset = xsnapXMLRefuseDoctype;

    /* No network, no DTD loading, no entity substitution (no
     * XML_PARSE_NOENT/DTDLOAD/HUGE); blank text nodes are dropped as
     * libvirt does with xmlKeepBlanksDefault(0). */
    doc = xmlCtxtReadMemory(pctxt, xml, (int)len, docName, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOWARNING |
                            XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA);

    if (state.sawDoctype || (doc && (doc->intSubset || doc->extSubset))) {
        xsnapReportError(VIR_ERR_XML_ERROR,
                         _("XML document '%1$s' must not contain a document type declaration"),
                         docName);
        goto error;
    }
    if (!doc || !pctxt->wellFormed) {
        xsnapXMLReportParseError(&state, xml, docName);
        goto error;
    }

    if (!(root = xmlDocGetRootElement(doc))) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR, "%s", _("missing root element"));
        goto error;
    }
    if (rootName && !g_str_equal((const char *)root->name, rootName)) {
        xsnapReportError(VIR_ERR_XML_ERROR,
                         _("expecting root element of '%1$s', not '%2$s'"),
                         rootName, (const char *)root->name);
        goto error;
    }
    if (ctxt && !(*ctxt = xsnapXMLXPathContextNew(doc, root)))
        goto error;

    g_free(state.message);
    xmlFreeParserCtxt(pctxt);
    return g_steal_pointer(&doc);

 error:
    g_free(state.message);
    xmlFreeParserCtxt(pctxt);
    return NULL;
}


static void
xsnapXMLSchemaError(void *opaque, const char *fmt, ...)
{
    GString *msg = opaque;
    va_list ap;

    va_start(ap, fmt);
    g_string_append_vprintf(msg, fmt, ap);
    va_end(ap);
}


int
xsnapXMLValidateSchema(xmlDocPtr doc, const char *schemaPath)
{
    xmlRelaxNGParserCtxtPtr pctxt = NULL;
    xmlRelaxNGPtr schema = NULL;
    xmlRelaxNGValidCtxtPtr vctxt = NULL;
    GString *msg = g_string_new(NULL);
    int ret = -1;

    if (!(pctxt = xmlRelaxNGNewParserCtxt(schemaPath))) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR,
                         _("Unable to create RNG parser for %1$s"), schemaPath);
        goto cleanup;
    }
    xmlRelaxNGSetParserErrors(pctxt, xsnapXMLSchemaError, xsnapXMLSchemaError, msg);
    if (!(schema = xmlRelaxNGParse(pctxt))) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR,
                         _("Unable to parse RNG %1$s: %2$s"), schemaPath, msg->str);
        goto cleanup;
    }
    if (!(vctxt = xmlRelaxNGNewValidCtxt(schema))) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR,
                         _("Unable to create RNG validation context %1$s"),
                         schemaPath);
        goto cleanup;
    }
    g_string_truncate(msg, 0);
    xmlRelaxNGSetValidErrors(vctxt, xsnapXMLSchemaError, xsnapXMLSchemaError, msg);
    if (xmlRelaxNGValidateDoc(vctxt, doc) != 0) {
        g_strchomp(msg->str);
        xsnapReportError(VIR_ERR_XML_INVALID_SCHEMA,
                         _("Unable to validate doc against %1$s\n%2$s"),
                         schemaPath, msg->str);
        goto cleanup;
    }
    ret = 0;

 cleanup:
    xmlRelaxNGFreeValidCtxt(vctxt);
    xmlRelaxNGFree(schema);
    xmlRelaxNGFreeParserCtxt(pctxt);
    g_string_free(msg, TRUE);
    return ret;
}


/* Evaluates @xpath to a non-empty string object, or NULL. */
static xmlXPathObjectPtr
xsnapXPathEvalString(const char *xpath, xmlXPathContextPtr ctxt)
{
    xmlXPathObjectPtr obj = xmlXPathEval(BAD_CAST xpath, ctxt);

    if (!obj)
        return NULL;
    if (obj->type != XPATH_STRING || !obj->stringval || !obj->stringval[0]) {
        xmlXPathFreeObject(obj);
        return NULL;
    }
    return obj;
}


char *
xsnapXPathString(const char *xpath, xmlXPathContextPtr ctxt)
{
    g_autoptr(xmlXPathObject) obj = xsnapXPathEvalString(xpath, ctxt);

    if (!obj)
        return NULL;
    return g_strdup((const char *)obj->stringval);
}


int
xsnapXPathLongLong(const char *xpath, xmlXPathContextPtr ctxt, long long *value)
{
    g_autoptr(xmlXPathObject) obj = xsnapXPathEvalString(xpath, ctxt);
    const char *s;
    char *end;
    long long v;

    if (!obj)
        return -1;
    s = (const char *)obj->stringval;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return -2;
    *value = v;
    return 0;
}


int
xsnapXPathInt(const char *xpath, xmlXPathContextPtr ctxt, int *value)
{
    long long v;
    int ret = xsnapXPathLongLong(xpath, ctxt, &v);

    if (ret < 0)
        return ret;
    if (v < G_MININT || v > G_MAXINT)
        return -2;
    *value = (int)v;
    return 0;
}


xmlNodePtr
xsnapXPathNode(const char *xpath, xmlXPathContextPtr ctxt)
{
    g_autoptr(xmlXPathObject) obj = xmlXPathEval(BAD_CAST xpath, ctxt);

    if (!obj || obj->type != XPATH_NODESET || !obj->nodesetval ||
        obj->nodesetval->nodeNr <= 0 || !obj->nodesetval->nodeTab)
        return NULL;
    return obj->nodesetval->nodeTab[0];
}


int
xsnapXPathNodeSet(const char *xpath, xmlXPathContextPtr ctxt, xmlNodePtr **list)
{
    g_autoptr(xmlXPathObject) obj = xmlXPathEval(BAD_CAST xpath, ctxt);
    int n;

    *list = NULL;
    if (!obj) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR,
                         _("Incorrect xpath '%1$s'"), xpath);
        return -1;
    }
    if (obj->type != XPATH_NODESET) {
        xsnapReportError(VIR_ERR_INTERNAL_ERROR,
                         _("Incorrect xpath '%1$s'"), xpath);
        return -1;
    }
    if (!obj->nodesetval || obj->nodesetval->nodeNr <= 0)
        return 0;
    n = obj->nodesetval->nodeNr;
    *list = g_new0(xmlNodePtr, n);
    memcpy(*list, obj->nodesetval->nodeTab, sizeof(xmlNodePtr) * (size_t)n);
    return n;
}


char *
xsnapXMLPropString(xmlNodePtr node, const char *name)
{
    xmlChar *val = xmlGetProp(node, BAD_CAST name);
    char *ret;

    if (!val)
        return NULL;
    ret = g_strdup((const char *)val);
    xmlFree(val);
    return ret;
}


int
xsnapXMLPropEnumDefault(xmlNodePtr node, const char *name,
                        int (*strToInt)(const char *), unsigned int flags,
                        int *result, int defaultResult)
{
    g_autofree char *val = NULL;
    int v;

    *result = defaultResult;
    if (!(val = xsnapXMLPropString(node, name))) {
        if (!(flags & XSNAP_XML_PROP_REQUIRED))
            return 0;
        xsnapReportError(VIR_ERR_XML_ERROR,
                         _("Missing required attribute '%1$s' in element '%2$s'"),
                         name, (const char *)node->name);
        return -1;
    }

    v = strToInt(val);
    if (v < 0 || ((flags & XSNAP_XML_PROP_NONZERO) && v == 0)) {
        xsnapReportError(VIR_ERR_XML_ERROR,
                         _("Invalid value for attribute '%1$s' in element '%2$s': '%3$s'."),
                         name, (const char *)node->name, val);
        return -1;
    }
    *result = v;
    return 1;
}


int
xsnapXMLPropEnum(xmlNodePtr node, const char *name,
                 int (*strToInt)(const char *), unsigned int flags,
                 int *result)
{
    return xsnapXMLPropEnumDefault(node, name, strToInt, flags, result, 0);
}


int
xsnapXMLPropUInt(xmlNodePtr node, const char *name, unsigned int flags,
                 unsigned int *result)
{
    g_autofree char *val = NULL;
    unsigned long long v;
    char *end;

    *result = 0;
    if (!(val = xsnapXMLPropString(node, name))) {
        if (!(flags & XSNAP_XML_PROP_REQUIRED))
            return 0;
        xsnapReportError(VIR_ERR_XML_ERROR,
                         _("Missing required attribute '%1$s' in element '%2$s'"),
                         name, (const char *)node->name);
        return -1;
    }
    errno = 0;
    v = strtoull(val, &end, 10);
    if (errno || end == val || *end || strchr(val, '-') || v > G_MAXUINT) {
        xsnapReportError(VIR_ERR_XML_ERROR,
                         _("Invalid value for attribute '%1$s' in element '%2$s': '%3$s'. Expected non-negative integer value"),
                         name, (const char *)node->name, val);
        return -1;
    }
    if ((flags & XSNAP_XML_PROP_NONZERO) && v == 0) {
        xsnapReportError(VIR_ERR_XML_ERROR,
                         _("Invalid value for attribute '%1$s' in element '%2$s': Zero is not permitted"),
                         name, (const char *)node->name);
        return -1;
    }
    *result = (unsigned int)v;
    return 1;
}


static char *
xsnapXMLQualifiedName(const xmlChar *name, xmlNsPtr ns)
{
    if (ns && ns->prefix)
        return g_strdup_printf("%s:%s", (const char *)ns->prefix,
                               (const char *)name);
    return g_strdup((const char *)name);
}


static bool
xsnapXMLNameIs(xmlNodePtr node, const char *name)
{
    return node && node->type == XML_ELEMENT_NODE && !node->ns &&
           g_str_equal((const char *)node->name, name);
}


/* Secrets that libvirt's domain formatter writes only with its SECURE
 * flag: graphics passwords and the cookies of network disk sources. */
static bool
xsnapXMLIsSecretElement(xmlNodePtr node)
{
    return xsnapXMLNameIs(node, "cookies") && xsnapXMLNameIs(node->parent, "source");
}


static bool
xsnapXMLIsSecretAttr(xmlNodePtr node, xmlAttrPtr attr)
{
    return !attr->ns && g_str_equal((const char *)attr->name, "passwd") &&
           xsnapXMLNameIs(node, "graphics");
}


static bool
xsnapXMLIsBlank(const char *s)
{
    for (; *s; s++) {
        if (!g_ascii_isspace(*s))
            return false;
    }
    return true;
}


/* libvirt writes a domain's <metadata> with libxml2's own serialiser
 * (virXMLFormatMetadata), so its quoting and layout differ from the rest:
 * do the same to produce the same bytes. */
static bool
xsnapXMLIsDomainMetadata(xmlNodePtr node)
{
    return xsnapXMLNameIs(node, "metadata") && node->parent &&
           node->parent->type == XML_ELEMENT_NODE &&
           node->parent->parent &&
           node->parent->parent->type == XML_DOCUMENT_NODE;
}


/* Length of the character reference ("&#38;", "&#x26;") at @s, or 0. */
static size_t
xsnapXMLCharRefLen(const char *s)
{
    size_t i = 2;
    bool hex = false;

    if (s[0] != '&' || s[1] != '#')
        return 0;
    if (s[2] == 'x') {
        hex = true;
        i++;
    }
    if (!(hex ? g_ascii_isxdigit(s[i]) : g_ascii_isdigit(s[i])))
        return 0;
    while (hex ? g_ascii_isxdigit(s[i]) : g_ascii_isdigit(s[i]))
        i++;
    return s[i] == ';' ? i + 1 : 0;
}


/* A namespace name as an attribute value. libxml2's parser, without
 * entity substitution (as libvirt's and ours run), keeps a namespace
 * name with each '&' of the value still written as the reference
 * "&#38;": the name is half escaped already. Escaping it once more would
 * add one "#38;" at each parse and format round, so such references are
 * written as they are, and only the other special characters escaped. */
static char *
xsnapXMLEscapeNsHref(const char *href)
{
    GString *out = g_string_sized_new(strlen(href) + 16);
    size_t n;

    while (*href) {
        if ((n = xsnapXMLCharRefLen(href)) > 0) {
            g_string_append_len(out, href, (gssize)n);
            href += n;
            continue;
        }
        switch (*href) {
        case '<': g_string_append(out, "&lt;"); break;
        case '>': g_string_append(out, "&gt;"); break;
        case '&': g_string_append(out, "&amp;"); break;
        case '"': g_string_append(out, "&quot;"); break;
        case '\'': g_string_append(out, "&apos;"); break;
        default: g_string_append_c(out, *href);
        }
        href++;
    }
    return g_string_free(out, FALSE);
}


typedef struct _xsnapXMLNsSave xsnapXMLNsSave;
struct _xsnapXMLNsSave {
    xmlNsPtr ns;
    xmlChar *href;
};


/* libxml2's serialiser writes a namespace name between quotes as it is,
 * so a '<' in it (read from "&lt;" or "&#60;") would make XML that no
 * parser reads back; libvirt's output has that flaw. Give each such name
 * of the subtree at @node the reference "&#60;" for the dump, the way the
 * parser keeps "&#38;", and record the names to put back. */
static void
xsnapXMLNsHrefsProtect(xmlNodePtr node, GArray *saved)
{
    xmlNodePtr cur;
    xmlNsPtr ns;

    for (ns = node->nsDef; ns; ns = ns->next) {
        xsnapXMLNsSave save = { ns, NULL };
        GString *href;
        const xmlChar *p;

        if (!ns->href || !strchr((const char *)ns->href, '<'))
            continue;
        href = g_string_new(NULL);
        for (p = ns->href; *p; p++) {
            if (*p == '<')
                g_string_append(href, "&#60;");
            else
                g_string_append_c(href, (char)*p);
        }
        save.href = (xmlChar *)ns->href;
        ns->href = xmlStrdup((const xmlChar *)href->str);
        g_string_free(href, TRUE);
        g_array_append_val(saved, save);
    }
    for (cur = node->children; cur; cur = cur->next) {
        if (cur->type == XML_ELEMENT_NODE)
            xsnapXMLNsHrefsProtect(cur, saved);
    }
}


static void
xsnapXMLNsHrefsRestore(GArray *saved)
{
    size_t i;

    for (i = 0; i < saved->len; i++) {
        xsnapXMLNsSave *save = &g_array_index(saved, xsnapXMLNsSave, i);

        xmlFree((xmlChar *)save->ns->href);
        save->ns->href = save->href;
    }
    g_array_set_size(saved, 0);
}


static void
xsnapXMLFormatMetadata(xsnapBuf *buf, xmlNodePtr node)
{
    xmlBufferPtr xmlbuf = xmlBufferCreate();
    int oldIndentTreeOutput = xmlIndentTreeOutput;
    g_autoptr(GArray) saved = g_array_new(FALSE, FALSE, sizeof(xsnapXMLNsSave));
    const char *content;

    if (!xmlbuf)
        return;
    xsnapXMLNsHrefsProtect(node, saved);
    xmlIndentTreeOutput = 1;
    if (xmlNodeDump(xmlbuf, node->doc, node, buf->indent / 2, 1) >= 0) {
        content = (const char *)xmlBufferContent(xmlbuf);
        while (content && g_ascii_isspace(*content))
            content++;
        if (content)
            xsnapBufAsprintf(buf, "%s\n", content);
    }
    xmlIndentTreeOutput = oldIndentTreeOutput;
    xsnapXMLNsHrefsRestore(saved);
    xmlBufferFree(xmlbuf);
}


static void
xsnapXMLFormatElement(xsnapBuf *buf, xmlNodePtr node, const char *rootName,
                      unsigned int flags)
{
    g_autofree char *name = NULL;
    xmlNodePtr cur;
    xmlAttrPtr attr;
    xmlNsPtr ns;
    bool hasElements = false;
    bool hasText = false;

    if (!(flags & XSNAP_XML_FORMAT_SECURE) && xsnapXMLIsSecretElement(node))
        return;

    if (xsnapXMLIsDomainMetadata(node)) {
        xsnapXMLFormatMetadata(buf, node);
        return;
    }

    name = rootName ? g_strdup(rootName) : xsnapXMLQualifiedName(node->name, node->ns);
    xsnapBufAsprintf(buf, "<%s", name);

    for (ns = node->nsDef; ns; ns = ns->next) {
        g_autofree char *href = xsnapXMLEscapeNsHref(ns->href ? (const char *)ns->href : "");

        if (ns->prefix)
            xsnapBufAsprintf(buf, " xmlns:%s", (const char *)ns->prefix);
        else
            xsnapBufAdd(buf, " xmlns");
        xsnapBufAsprintf(buf, "='%s'", href);
    }

    for (attr = node->properties; attr; attr = attr->next) {
        g_autofree char *aname = NULL;
        xmlChar *val;

        if (!(flags & XSNAP_XML_FORMAT_SECURE) && xsnapXMLIsSecretAttr(node, attr))
            continue;
        aname = xsnapXMLQualifiedName(attr->name, attr->ns);
        val = xmlNodeGetContent((xmlNodePtr)attr);
        xsnapBufAsprintf(buf, " %s", aname);
        xsnapBufEscapeString(buf, "='%s'", val ? (const char *)val : "");
        xmlFree(val);
    }

    for (cur = node->children; cur; cur = cur->next) {
        if (cur->type == XML_ELEMENT_NODE) {
            if (!(flags & XSNAP_XML_FORMAT_SECURE) && xsnapXMLIsSecretElement(cur))
                continue;
            hasElements = true;
        }
        else if ((cur->type == XML_TEXT_NODE || cur->type == XML_CDATA_SECTION_NODE) &&
                 cur->content && cur->content[0])
            hasText = true;
    }

    if (!hasElements && !hasText) {
        xsnapBufAdd(buf, "/>\n");
        return;
    }

    if (!hasElements) {
        xmlChar *text = xmlNodeGetContent(node);
        xsnapBufEscapeString(buf, ">%s", text ? (const char *)text : "");
        xmlFree(text);
        xsnapBufAsprintf(buf, "</%s>\n", name);
        return;
    }

    xsnapBufAdd(buf, ">\n");
    xsnapBufAdjustIndent(buf, 2);
    for (cur = node->children; cur; cur = cur->next) {
        if (cur->type == XML_ELEMENT_NODE) {
            xsnapXMLFormatElement(buf, cur, NULL, flags);
        } else if ((cur->type == XML_TEXT_NODE ||
                    cur->type == XML_CDATA_SECTION_NODE) &&
                   cur->content && !xsnapXMLIsBlank((const char *)cur->content)) {
            /* Mixed content: keep the text, on a line of its own. */
            g_autofree char *text = g_strstrip(g_strdup((const char *)cur->content));
            xsnapBufEscapeString(buf, "%s\n", text);
        }
    }
    xsnapBufAdjustIndent(buf, -2);
    xsnapBufAsprintf(buf, "</%s>\n", name);
}


void
xsnapXMLFormatNode(xsnapBuf *buf, xmlNodePtr node, const char *rootName,
                   unsigned int flags)
{
    if (node->type != XML_ELEMENT_NODE)
        return;
    xsnapXMLFormatElement(buf, node, rootName, flags);
}


char *
xsnapXMLNodeToString(xmlNodePtr node, const char *rootName, unsigned int flags)
{
    g_auto_xsnapBuf buf = XSNAP_BUF_INIT;

    xsnapXMLFormatNode(&buf, node, rootName, flags);
    return xsnapBufContentAndReset(&buf);
}


int
xsnapXMLFormatString(xsnapBuf *buf, const char *xml, const char *rootName,
                     unsigned int flags)
{
    g_autoptr(xmlDoc) doc = NULL;

    if (!(doc = xsnapXMLParseString(xml, "(embedded_xml)", NULL, NULL)))
        return -1;
    xsnapXMLFormatNode(buf, xmlDocGetRootElement(doc), rootName, flags);
    return 0;
}
