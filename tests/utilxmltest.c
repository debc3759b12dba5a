/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * utilxmltest.c: safe parsing, XPath and attribute helpers, serialiser
 */
#include <config.h>

#include <string.h>

#include "testutils.h"
#include "util_error.h"
#include "util_xml.h"

static int
xsnapTestLocationFromString(const char *s)
{
    static const char *const names[] = { "default", "no", "internal", "external" };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(names); i++) {
        if (g_str_equal(s, names[i]))
            return (int)i;
    }
    return -1;
}


static int
expectError(int code, const char *text)
{
    if (xsnapGetLastErrorCode() != code ||
        !strstr(xsnapGetLastErrorMessage(), text)) {
        xsnapTestFail("expected error %d '%s', got %d '%s'", code, text,
                      xsnapGetLastErrorCode(), xsnapGetLastErrorMessage());
        return -1;
    }
    return 0;
}


static int
testParseErrors(const void *data XSNAP_UNUSED)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autofree char *big = NULL;

    if ((doc = xsnapXMLParseString("<a>\n  <b>\n</a>", "(t)", NULL, NULL)) ||
        expectError(VIR_ERR_XML_DETAIL, "(t):3: Opening and ending tag mismatch: b line 2 and a\n</a>\n----^") < 0)
        return -1;
    if ((doc = xsnapXMLParseString("<a/>", "(t)", "b", NULL)) ||
        expectError(VIR_ERR_XML_ERROR, "expecting root element of 'b', not 'a'") < 0)
        return -1;
    if ((doc = xsnapXMLParseString("<!DOCTYPE a [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><a>&e;</a>",
                                   "(t)", NULL, NULL)) ||
        expectError(VIR_ERR_XML_ERROR, "must not contain a document type declaration") < 0)
        return -1;
    if ((doc = xsnapXMLParseString("<!DOCTYPE a SYSTEM 'http://example.org/a.dtd'><a/>",
                                   "(t)", NULL, NULL)) ||
        expectError(VIR_ERR_XML_ERROR, "must not contain a document type declaration") < 0)
        return -1;
    big = g_malloc(XSNAP_XML_MAX_SIZE + 16);
    memset(big, ' ', XSNAP_XML_MAX_SIZE + 15);
    memcpy(big, "<a>", 3);
    big[XSNAP_XML_MAX_SIZE + 15] = '\0';
    if ((doc = xsnapXMLParseString(big, "(t)", NULL, NULL)) ||
        expectError(VIR_ERR_XML_ERROR, "is too large") < 0)
        return -1;
    if ((doc = xsnapXMLParseString("", "(t)", NULL, NULL)) ||
        expectError(VIR_ERR_XML_DETAIL, "Document is empty") < 0)
        return -1;
    return 0;
}


static int
testXPathAndProps(const void *data XSNAP_UNUSED)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(xmlXPathContext) ctxt = NULL;
    g_autofree char *s = NULL;
    g_autofree char *empty = NULL;
    g_autofree xmlNodePtr *nodes = NULL;
    xmlNodePtr node;
    long long ll = 0;
    int i = 0;
    int e = 0;
    unsigned int u = 0;

    if (!(doc = xsnapXMLParseString("<r><s>text</s><n>-12</n><bad>1x</bad><e></e>"
                                    "<x k='internal' z='' p='80' q='-1'/><x/></r>",
                                    "(t)", "r", &ctxt)))
        return -1;
    if (!(s = xsnapXPathString("string(./s)", ctxt)) || !g_str_equal(s, "text"))
        return -1;
    if ((empty = xsnapXPathString("string(./e)", ctxt)) ||
        xsnapXPathString("string(./missing)", ctxt))
        return -1;
    if (xsnapXPathLongLong("string(./n)", ctxt, &ll) != 0 || ll != -12 ||
        xsnapXPathInt("string(./bad)", ctxt, &i) != -2 ||
        xsnapXPathInt("string(./missing)", ctxt, &i) != -1)
        return -1;
    if (xsnapXPathNodeSet("./x", ctxt, &nodes) != 2 || !(node = xsnapXPathNode("./x", ctxt)))
        return -1;
    if (xsnapXMLPropEnum(node, "k", xsnapTestLocationFromString, XSNAP_XML_PROP_NONE, &e) != 1 || e != 2)
        return -1;
    if (xsnapXMLPropEnum(node, "z", xsnapTestLocationFromString, XSNAP_XML_PROP_NONE, &e) != -1 ||
        expectError(VIR_ERR_XML_ERROR, "Invalid value for attribute 'z' in element 'x': ''.") < 0)
        return -1;
    if (xsnapXMLPropEnum(nodes[1], "k", xsnapTestLocationFromString, XSNAP_XML_PROP_REQUIRED, &e) != -1 ||
        expectError(VIR_ERR_XML_ERROR, "Missing required attribute 'k' in element 'x'") < 0)
        return -1;
    if (xsnapXMLPropEnumDefault(nodes[1], "k", xsnapTestLocationFromString,
                                XSNAP_XML_PROP_NONZERO, &e, 3) != 0 || e != 3)
        return -1;
    if (xsnapXMLPropUInt(node, "p", XSNAP_XML_PROP_NONZERO, &u) != 1 || u != 80)
        return -1;
    if (xsnapXMLPropUInt(node, "q", XSNAP_XML_PROP_NONE, &u) != -1 ||
        expectError(VIR_ERR_XML_ERROR, "Expected non-negative integer value") < 0)
        return -1;
    return 0;
}


static int
testSerialise(const void *data XSNAP_UNUSED)
{
    g_auto_xsnapBuf buf = XSNAP_BUF_INIT;
    g_autofree char *out = NULL;
    g_autofree char *secure = NULL;
    const char *in =
        "<domain type='xen'><name>a&amp;b</name>\n\n"
        "   <devices><graphics type='vnc' passwd='pw'/>"
        "<disk><source protocol='http'><cookies><cookie name='c'>v</cookie></cookies></source></disk>"
        "</devices><p>mixed <b>bold</b> text</p>"
        "<q:e xmlns:q=\"urn:q\" q:a=\"1\"/><!-- gone --></domain>";
    const char *expect =
        "  <snap type='xen'>\n"
        "    <name>a&amp;b</name>\n"
        "    <devices>\n"
        "      <graphics type='vnc'/>\n"
        "      <disk>\n"
        "        <source protocol='http'/>\n"
        "      </disk>\n"
        "    </devices>\n"
        "    <p>\n"
        "      mixed\n"
        "      <b>bold</b>\n"
        "      text\n"
        "    </p>\n"
        "    <q:e xmlns:q='urn:q' q:a='1'/>\n"
        "  </snap>\n";

    xsnapBufAdjustIndent(&buf, 2);
    if (xsnapXMLFormatString(&buf, in, "snap", 0) < 0)
        return -1;
    out = xsnapBufContentAndReset(&buf);
    if (!g_str_equal(out, expect)) {
        xsnapTestFail("got:\n%s", out);
        return -1;
    }
    if (xsnapXMLFormatString(&buf, in, NULL, XSNAP_XML_FORMAT_SECURE) < 0)
        return -1;
    secure = xsnapBufContentAndReset(&buf);
    if (!strstr(secure, "passwd='pw'") || !strstr(secure, "<cookie name='c'>v</cookie>") ||
        !g_str_has_prefix(secure, "<domain type='xen'>")) {
        xsnapTestFail("got:\n%s", secure);
        return -1;
    }
    return 0;
}


static int
mymain(void)
{
    int ret = 0;

    if (xsnapTestRun("xml: parse errors, DOCTYPE, size cap", testParseErrors, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("xml: XPath and attribute helpers", testXPathAndProps, NULL) < 0)
        ret = -1;
    if (xsnapTestRun("xml: serialiser and secrets", testSerialise, NULL) < 0)
        ret = -1;
    return ret;
}

XSNAP_TEST_MAIN(mymain)
