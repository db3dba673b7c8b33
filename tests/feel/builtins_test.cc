// Every built-in function: normal cases, null / wrong-type arguments, and named parameters.

#include "feel_test_util.h"

namespace tern::feel::testing {
namespace {

TEST(ConversionFunctionsTest, StringAndNumber) {
  EXPECT_EQ(J("string(1.50)"), "\"1.5\"");
  EXPECT_EQ(J("string(true)"), "\"true\"");
  EXPECT_EQ(J("string(\"a\")"), "\"a\"");
  EXPECT_EQ(J("string(null)"), "null");
  EXPECT_EQ(J("string([1, \"a\"])"), "\"[1, \\\"a\\\"]\"");
  EXPECT_EQ(J("string(@\"2024-01-02\")"), "\"2024-01-02\"");
  EXPECT_EQ(J("string({a: [@\"2024-01-02\", @\"P1D\"], b: \"x\"})"),
            "\"{a:[2024-01-02, P1D], b:\\\"x\\\"}\"");
  EXPECT_EQ(J("string(function(a, b) a)"), "\"function(a, b)\"");
  EXPECT_EQ(J("string(from: 5)"), "\"5\"");
  EXPECT_EQ(J("number(\"12.5\")"), "12.5");
  EXPECT_EQ(J("number(\"1e3\")"), "1000");
  EXPECT_EQ(J("number(\"abc\")"), "null");
  EXPECT_EQ(J("number(null)"), "null");
  EXPECT_EQ(J("number(\"1,000.5\", \",\", \".\")"), "1000.5");
  EXPECT_EQ(J("number(\"1.000,5\", \".\", \",\")"), "1000.5");
  EXPECT_EQ(J("number(\"1 000\", \" \")"), "1000");
  EXPECT_EQ(J("number(\"1.500\", \".\")"), "1500");
  EXPECT_EQ(J("number(from: \"1.500\", grouping separator: \".\", decimal separator: null)"),
            "1500");
  EXPECT_EQ(J("number(\"1,5\", \",\", \",\")"), "null");
  EXPECT_EQ(J("number(from: \"7\")"), "7");
  EXPECT_EQ(J("number(5)"), "5");
}

TEST(ConversionFunctionsTest, Temporal) {
  EXPECT_EQ(J("date(\"2024-02-29\")"), "\"2024-02-29\"");
  EXPECT_EQ(J("date(\"2023-02-29\")"), "null");
  EXPECT_EQ(J("date(2024, 1, 31)"), "\"2024-01-31\"");
  EXPECT_EQ(J("date(2024, 13, 1)"), "null");
  EXPECT_EQ(J("date(date and time(\"2024-05-06T10:00:00\"))"), "\"2024-05-06\"");
  EXPECT_EQ(J("date(year: 2020, month: 2, day: 29)"), "\"2020-02-29\"");
  EXPECT_EQ(J("date(\"-0044-03-15\")"), "\"-0044-03-15\"");
  EXPECT_EQ(J("date(\"999999999-12-31\")"), "\"999999999-12-31\"");
  EXPECT_EQ(J("date and time(\"2024-01-01T10:20:30\")"), "\"2024-01-01T10:20:30\"");
  EXPECT_EQ(J("date and time(\"2024-01-01\")"), "\"2024-01-01T00:00:00\"");
  EXPECT_EQ(J("date and time(\"2024-01-01T10:20:30.5Z\")"), "\"2024-01-01T10:20:30.5Z\"");
  EXPECT_EQ(J("date and time(\"2024-01-01T10:20:30-05:00\")"), "\"2024-01-01T10:20:30-05:00\"");
  EXPECT_EQ(J("date and time(\"2024-01-01T10:20:30@Europe/Berlin\")"),
            "\"2024-01-01T10:20:30+01:00[Europe/Berlin]\"");
  EXPECT_EQ(J("date and time(\"2024-01-01T10:20:30@No/Such_Zone\")"), "null");
  EXPECT_EQ(J("date and time(\"2024-01-01T25:00:00\")"), "null");
  EXPECT_EQ(J("date and time(date(\"2024-01-01\"), time(\"10:00:00Z\"))"),
            "\"2024-01-01T10:00:00Z\"");
  EXPECT_EQ(J("date and time(date: date(\"2024-01-01\"), time: time(\"10:00:00\"))"),
            "\"2024-01-01T10:00:00\"");
  EXPECT_EQ(J("time(\"10:20:30\")"), "\"10:20:30\"");
  EXPECT_EQ(J("time(\"10:20\")"), "\"10:20:00\"");
  EXPECT_EQ(J("time(\"10:20:30.123+02:00\")"), "\"10:20:30.123+02:00\"");
  EXPECT_EQ(J("time(\"24:00:00\")"), "null");
  EXPECT_EQ(J("time(10, 20, 30)"), "\"10:20:30\"");
  EXPECT_EQ(J("time(10, 20, 30.5, duration(\"PT1H\"))"), "\"10:20:30.5+01:00\"");
  EXPECT_EQ(J("time(25, 0, 0)"), "null");
  EXPECT_EQ(J("time(date and time(\"2024-01-01T10:20:30Z\"))"), "\"10:20:30Z\"");
  EXPECT_EQ(J("duration(\"P1DT2H3M4.5S\")"), "\"P1DT2H3M4.5S\"");
  EXPECT_EQ(J("duration(\"PT36H\")"), "\"P1DT12H\"");
  EXPECT_EQ(J("duration(\"-PT1M\")"), "\"-PT1M\"");
  EXPECT_EQ(J("duration(\"P1Y2M\")"), "\"P1Y2M\"");
  EXPECT_EQ(J("duration(\"P14M\")"), "\"P1Y2M\"");
  EXPECT_EQ(J("duration(\"P\")"), "null");
  EXPECT_EQ(J("duration(\"1D\")"), "null");
  EXPECT_EQ(J("duration(\"P1Y2D\")"), "null");
  EXPECT_EQ(J("years and months duration(date(\"2020-01-15\"), date(\"2021-03-14\"))"),
            "\"P1Y1M\"");
  EXPECT_EQ(J("years and months duration(date(\"2021-03-14\"), date(\"2020-01-15\"))"),
            "\"-P1Y1M\"");
  EXPECT_EQ(J("years and months duration(null, date(\"2020-01-15\"))"), "null");
}

TEST(ConversionFunctionsTest, Json) {
  EXPECT_EQ(J("from json(\"{\\\"a\\\": [1, 2.5]}\")"), "{\"a\":[1,2.5]}");
  EXPECT_EQ(J("from json(\"{\")"), "null");
  EXPECT_EQ(J("to json({a: [1, \"x\", null]})"), "\"{\\\"a\\\":[1,\\\"x\\\",null]}\"");
  EXPECT_EQ(J("to json(@\"2024-01-01\")"), "\"\\\"2024-01-01\\\"\"");
}

TEST(BooleanFunctionsTest, All) {
  EXPECT_EQ(J("not(false)"), "true");
  EXPECT_EQ(J("not(negand: true)"), "false");
  EXPECT_EQ(J("is defined(x)", R"({"x": 1})"), "true");
  EXPECT_EQ(J("is defined(x)"), "false");
  EXPECT_EQ(J("is defined(x.y)", R"({"x": {}})"), "false");
  EXPECT_EQ(J("get or else(x, \"d\")"), "\"d\"");
  EXPECT_EQ(J("get or else(x, \"d\")", R"({"x": "v"})"), "\"v\"");
  EXPECT_EQ(J("assert(1, true)"), "1");
  EXPECT_EQ(J("assert(1, 1 > 2, \"too small\")"), "ERROR: FEEL assertion failed: too small");
  EXPECT_EQ(J("is(1, 1.0)"), "true");
  EXPECT_EQ(J("is(1, \"1\")"), "false");
  EXPECT_EQ(J("is(@\"10:00:00Z\", @\"11:00:00+01:00\")"), "false");
  EXPECT_EQ(J("@\"10:00:00Z\" = @\"11:00:00+01:00\""), "true");
}

TEST(StringFunctionsTest, All) {
  EXPECT_EQ(J("substring(\"foobar\", 3)"), "\"obar\"");
  EXPECT_EQ(J("substring(\"foobar\", 3, 3)"), "\"oba\"");
  EXPECT_EQ(J("substring(\"foobar\", -2, 1)"), "\"a\"");
  EXPECT_EQ(J("substring(\"f\xC3\xB6\xC3\xB6\", 2)"), "\"\xC3\xB6\xC3\xB6\"");
  EXPECT_EQ(J("substring(\"abc\", 1, -1)"), "null");
  EXPECT_EQ(J("substring(null, 1)"), "null");
  EXPECT_EQ(J("string length(\"f\xC3\xB6o\")"), "3");
  EXPECT_EQ(J("string length(\"\")"), "0");
  EXPECT_EQ(J("string length(1)"), "null");
  EXPECT_EQ(J("upper case(\"aBc\xC3\xA9\")"), "\"ABC\xC3\x89\"");
  EXPECT_EQ(J("lower case(\"ABC\xD0\x96\")"), "\"abc\xD0\xB6\"");
  EXPECT_EQ(J("upper case(1)"), "null");
  EXPECT_EQ(J("substring before(\"foobar\", \"bar\")"), "\"foo\"");
  EXPECT_EQ(J("substring before(\"foobar\", \"x\")"), "\"\"");
  EXPECT_EQ(J("substring after(\"foobar\", \"ob\")"), "\"ar\"");
  EXPECT_EQ(J("substring after(\"\", \"a\")"), "\"\"");
  EXPECT_EQ(J("replace(\"abcd\", \"(ab)|(a)\", \"[1=$1][2=$2]\")"), "\"[1=ab][2=]cd\"");
  EXPECT_EQ(J("replace(\"aBc\", \"b\", \"x\", \"i\")"), "\"axc\"");
  EXPECT_EQ(J("replace(\"a.c\", \".\", \"x\", \"q\")"), "\"axc\"");
  EXPECT_EQ(J("replace(\"abc\", \"b\", \"$\")"), "null");
  EXPECT_EQ(J("contains(\"foobar\", \"of\")"), "false");
  EXPECT_EQ(J("contains(\"foobar\", \"ob\")"), "true");
  EXPECT_EQ(J("contains(null, \"a\")"), "null");
  EXPECT_EQ(J("starts with(\"foobar\", \"fo\")"), "true");
  EXPECT_EQ(J("starts with(string: \"foobar\", match: \"x\")"), "false");
  EXPECT_EQ(J("ends with(\"foobar\", \"r\")"), "true");
  EXPECT_EQ(J("matches(\"foobar\", \"^fo*b\")"), "true");
  EXPECT_EQ(J("matches(\"foobar\", \"o+b\")"), "true");  // a partial match suffices
  EXPECT_EQ(J("matches(\"FooBar\", \"foo\", \"i\")"), "true");
  EXPECT_EQ(J("matches(\"a\\nb\", \"a.b\", \"s\")"), "true");
  EXPECT_EQ(J("matches(\"a\\nb\", \"a.b\")"), "false");
  EXPECT_EQ(J("matches(\"abc\", \"a b c\", \"x\")"), "true");
  EXPECT_EQ(J("matches(\"a\", \"[\")"), "null");         // invalid pattern
  EXPECT_EQ(J("matches(\"a\", \"a\", \"z\")"), "null");  // invalid flag
  EXPECT_EQ(J("matches(\"h\", \"(.)\\\\3\")"), "null");  // backreference to a missing group
  EXPECT_EQ(Code("matches(\"aa\", \"(a)\\\\1\")"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Code("matches(\"aa\", \"(?=a)\")"), absl::StatusCode::kInvalidArgument);  // lookahead
  EXPECT_EQ(J("matches(\"Mary\\rJones\", \"Mary.Jones\")"), "false");                 // XPath dot
  EXPECT_EQ(J("matches(\"a\\nb\", \"^b\", \"m\")"), "true");
  EXPECT_EQ(J("matches(\"hello world\", \"hello\\ sworld\", \"x\")"), "true");
  EXPECT_EQ(J("split(\"John Doe\", \"\\\\s\")"), "[\"John\",\"Doe\"]");
  EXPECT_EQ(J("split(\"a;b;;c\", \";\")"), "[\"a\",\"b\",\"\",\"c\"]");
  EXPECT_EQ(J("split(\"abc\", \"x\")"), "[\"abc\"]");
  EXPECT_EQ(J("extract(\"a1b22c333\", \"[0-9]+\")"), "[\"1\",\"22\",\"333\"]");
  EXPECT_EQ(J("extract(\"abc\", \"[0-9]+\")"), "[]");
  EXPECT_EQ(J("trim(\"  a b \\n\")"), "\"a b\"");
  EXPECT_EQ(J("trim(1)"), "null");
  EXPECT_EQ(J("is blank(\"  \\t\")"), "true");
  EXPECT_EQ(J("is blank(\"\")"), "true");
  EXPECT_EQ(J("is blank(\" a \")"), "false");
  EXPECT_EQ(J("to base64(\"FEEL\")"), "\"RkVFTA==\"");
  EXPECT_EQ(J("from base64(\"RkVFTA==\")"), "\"FEEL\"");
  EXPECT_EQ(J("from base64(\"%%%\")"), "null");
  EXPECT_EQ(J("string join([\"a\", \"b\", \"c\"], \", \")"), "\"a, b, c\"");
  EXPECT_EQ(J("string join([\"a\", null, \"c\"])"), "\"ac\"");
  EXPECT_EQ(J("string join([\"a\", \"b\"], \", \", \"[\", \"]\")"), "\"[a, b]\"");
  EXPECT_EQ(J("string join([1, 2], \",\")"), "null");
  EXPECT_EQ(J("string join([], \",\")"), "\"\"");
  EXPECT_EQ(J("string join(\"a\", \"X\")"), "\"a\"");
}

TEST(StringFunctionsTest, UuidIsDeterministicPerSeed) {
  EvalOptions a;
  a.random_seed = 42;
  std::string u1 = J("uuid()", "{}", a);
  std::string u2 = J("uuid()", "{}", a);
  EXPECT_EQ(u1, u2);
  EXPECT_EQ(u1.size(), 38u);  // quoted 36-character UUID
  EXPECT_EQ(u1[15], '4');     // version 4 layout
  a.random_seed = 43;
  EXPECT_NE(J("uuid()", "{}", a), u1);
  EXPECT_EQ(J("uuid() = uuid()"), "false");
}

TEST(ListFunctionsTest, Aggregates) {
  EXPECT_EQ(J("list contains([1, 2, 3], 2)"), "true");
  EXPECT_EQ(J("list contains([1, null], null)"), "true");
  EXPECT_EQ(J("list contains([1, 2], \"2\")"), "false");
  EXPECT_EQ(J("list contains(null, 1)"), "null");
  EXPECT_EQ(J("count([1, 2, 3])"), "3");
  EXPECT_EQ(J("count([])"), "0");
  // DMN 1.5 §10.3.2.9.4: a non-list where a list is expected becomes a singleton list.
  EXPECT_EQ(J("count(1)"), "1");
  EXPECT_EQ(J("min([3, 1, 2])"), "1");
  EXPECT_EQ(J("min(3, 1, 2)"), "1");
  EXPECT_EQ(J("min([])"), "null");
  EXPECT_EQ(J("min([1, \"a\"])"), "null");
  EXPECT_EQ(J("max(\"a\", \"c\", \"b\")"), "\"c\"");
  EXPECT_EQ(J("max([@\"2024-01-01\", @\"2023-01-01\"])"), "\"2024-01-01\"");
  EXPECT_EQ(J("sum([1, 2, 3])"), "6");
  EXPECT_EQ(J("sum(1, 2, 3)"), "6");
  EXPECT_EQ(J("sum([])"), "null");
  EXPECT_EQ(J("sum([1, \"a\"])"), "null");
  EXPECT_EQ(J("sum(list: [0.1, 0.2])"), "0.3");
  EXPECT_EQ(J("product([2, 3, 4])"), "24");
  EXPECT_EQ(J("product(2, 3)"), "6");
  EXPECT_EQ(J("product([])"), "null");
  EXPECT_EQ(J("mean([1, 2, 3, 4])"), "2.5");
  EXPECT_EQ(J("mean(5)"), "5");
  EXPECT_EQ(J("mean([])"), "null");
  EXPECT_EQ(J("median([8, 2, 5, 3, 4])"), "4");
  EXPECT_EQ(J("median([6, 1, 2, 3])"), "2.5");
  EXPECT_EQ(J("median([])"), "null");
  EXPECT_EQ(J("stddev([2, 4, 7, 5])"), "2.081665999466132735282297706979931");
  EXPECT_EQ(J("stddev([1])"), "null");
  EXPECT_EQ(J("mode([6, 3, 9, 6, 6])"), "[6]");
  EXPECT_EQ(J("mode([6, 1, 9, 6, 1])"), "[1,6]");
  EXPECT_EQ(J("mode([])"), "[]");
  EXPECT_EQ(J("all([true, true])"), "true");
  EXPECT_EQ(J("all([true, false, null])"), "false");
  EXPECT_EQ(J("all([true, null])"), "null");
  EXPECT_EQ(J("all([])"), "true");
  EXPECT_EQ(J("and([true, true])"), "true");
  EXPECT_EQ(J("any([false, true])"), "true");
  EXPECT_EQ(J("any([false, null])"), "null");
  EXPECT_EQ(J("any([])"), "false");
  EXPECT_EQ(J("or(false, false)"), "false");
}

TEST(ListFunctionsTest, Manipulation) {
  EXPECT_EQ(J("sublist([1, 2, 3, 4], 2)"), "[2,3,4]");
  EXPECT_EQ(J("sublist([1, 2, 3, 4], 2, 2)"), "[2,3]");
  EXPECT_EQ(J("sublist([1, 2, 3, 4], -2, 1)"), "[3]");
  EXPECT_EQ(J("sublist([1, 2], 5)"), "null");
  EXPECT_EQ(J("append([1], 2, 3)"), "[1,2,3]");
  EXPECT_EQ(J("append([1], [2])"), "[1,[2]]");
  EXPECT_EQ(J("append(null, 1)"), "null");
  EXPECT_EQ(J("concatenate([1, 2], [3], [])"), "[1,2,3]");
  EXPECT_EQ(J("concatenate([1], 2)"), "null");
  EXPECT_EQ(J("insert before([1, 3], 2, 2)"), "[1,2,3]");
  EXPECT_EQ(J("insert before([1, 3], -1, 2)"), "[1,2,3]");
  EXPECT_EQ(J("insert before([1, 3], 5, 2)"), "null");
  EXPECT_EQ(J("remove([1, 2, 3], 2)"), "[1,3]");
  EXPECT_EQ(J("remove([1, 2, 3], -1)"), "[1,2]");
  EXPECT_EQ(J("remove([1, 2, 3], 4)"), "null");
  EXPECT_EQ(J("reverse([1, 2, 3])"), "[3,2,1]");
  EXPECT_EQ(J("list replace([1, 2, 3], 2, 5)"), "[1,5,3]");
  EXPECT_EQ(J("list replace([1, 2, 3], -1, 5)"), "[1,2,5]");
  EXPECT_EQ(J("list replace([1, 2, 3], 4, 5)"), "null");
  EXPECT_EQ(J("list replace(list: [2, 4, 7], match: function(item, newItem) item < newItem, "
              "newItem: 5)"),
            "[5,5,7]");
  EXPECT_EQ(J("list replace([1], function(x, y) 1, 5)"), "null");
  EXPECT_EQ(J("reverse(1)"), "[1]");  // singleton-list conversion
  EXPECT_EQ(J("index of([1, 2, 3, 2], 2)"), "[2,4]");
  EXPECT_EQ(J("index of([1], 5)"), "[]");
  EXPECT_EQ(J("union([1, 2], [2, 3])"), "[1,2,3]");
  EXPECT_EQ(J("distinct values([1, 2, 3, 2, 1])"), "[1,2,3]");
  EXPECT_EQ(J("distinct values([{a: 1}, {a: 1}])"), "[{\"a\":1}]");
  EXPECT_EQ(J("duplicate values([1, 2, 3, 2, 1])"), "[1,2]");
  EXPECT_EQ(J("duplicate values([1, 2, 3, 4, 3, 1, 2])"), "[1,2,3]");
  EXPECT_EQ(J("flatten([[1, 2], [[3]], 4])"), "[1,2,3,4]");
  EXPECT_EQ(J("flatten(1)"), "[1]");  // singleton-list conversion
  EXPECT_EQ(J("sort([3, 1, 2])"), "[1,2,3]");
  EXPECT_EQ(J("sort([\"b\", \"a\"])"), "[\"a\",\"b\"]");
  EXPECT_EQ(J("sort([1, \"a\"])"), "null");
  EXPECT_EQ(J("sort(list: [3, 1, 2], precedes: function(x, y) x > y)"), "[3,2,1]");
  EXPECT_EQ(J("sort([{n: 2}, {n: 1}], function(x, y) x.n < y.n).n"), "[1,2]");
  EXPECT_EQ(J("sort([3, 1], function(x, y) null)"), "null");
  EXPECT_EQ(J("is empty([])"), "true");
  EXPECT_EQ(J("is empty([1])"), "false");
  EXPECT_EQ(J("is empty(1)"), "false");  // singleton-list conversion
  EXPECT_EQ(J("partition([1, 2, 3, 4, 5], 2)"), "[[1,2],[3,4],[5]]");
  EXPECT_EQ(J("partition([1], 0)"), "null");
}

TEST(NumericFunctionsTest, All) {
  EXPECT_EQ(J("decimal(1/3, 2)"), "0.33");
  EXPECT_EQ(J("decimal(1.5, 0)"), "2");
  EXPECT_EQ(J("decimal(2.5, 0)"), "2");
  EXPECT_EQ(J("decimal(2.5, 0, \"HALF_UP\")"), "3");
  EXPECT_EQ(J("decimal(2.5, 0, \"nope\")"), "null");
  EXPECT_EQ(J("floor(1.5)"), "1");
  EXPECT_EQ(J("floor(-1.5)"), "-2");
  EXPECT_EQ(J("floor(-1.56, 1)"), "-1.6");
  EXPECT_EQ(J("ceiling(1.5)"), "2");
  EXPECT_EQ(J("ceiling(-1.56, 1)"), "-1.5");
  EXPECT_EQ(J("round up(5.5, 0)"), "6");
  EXPECT_EQ(J("round up(-5.5, 0)"), "-6");
  EXPECT_EQ(J("round up(1.121, 2)"), "1.13");
  EXPECT_EQ(J("round down(5.5, 0)"), "5");
  EXPECT_EQ(J("round down(-1.126, 2)"), "-1.12");
  EXPECT_EQ(J("round half up(5.5, 0)"), "6");
  EXPECT_EQ(J("round half up(-5.5, 0)"), "-6");
  EXPECT_EQ(J("round half down(5.5, 0)"), "5");
  EXPECT_EQ(J("round half down(-1.126, 2)"), "-1.13");
  EXPECT_EQ(J("abs(-5)"), "5");
  EXPECT_EQ(J("abs(n: -1.5)"), "1.5");
  EXPECT_EQ(J("abs(duration(\"-PT1H\"))"), "\"PT1H\"");
  EXPECT_EQ(J("abs(\"a\")"), "null");
  EXPECT_EQ(J("modulo(12, 5)"), "2");
  EXPECT_EQ(J("modulo(-12, 5)"), "3");
  EXPECT_EQ(J("modulo(12, -5)"), "-3");
  EXPECT_EQ(J("modulo(1, 0)"), "null");
  EXPECT_EQ(J("sqrt(16)"), "4");
  EXPECT_EQ(J("sqrt(2)"), "1.414213562373095048801688724209698");
  EXPECT_EQ(J("sqrt(-1)"), "null");
  EXPECT_EQ(J("decimal(log(10), 4)"), "2.3026");
  EXPECT_EQ(J("log(0)"), "null");
  EXPECT_EQ(J("decimal(exp(1), 4)"), "2.7183");
  EXPECT_EQ(J("exp(0)"), "1");
  EXPECT_EQ(J("odd(5)"), "true");
  EXPECT_EQ(J("odd(-2)"), "false");
  EXPECT_EQ(J("odd(1.5)"), "null");
  EXPECT_EQ(J("even(2)"), "true");
  EXPECT_EQ(J("even(0)"), "true");
  EXPECT_EQ(J("random number() >= 0 and random number() < 1"), "true");
}

TEST(ContextFunctionsTest, All) {
  EXPECT_EQ(J("get value({a: 1}, \"a\")"), "1");
  EXPECT_EQ(J("get value({a: 1}, \"b\")"), "null");
  EXPECT_EQ(J("get value({a: {b: 2}}, [\"a\", \"b\"])"), "2");
  EXPECT_EQ(J("get value(m: {a: 1}, key: \"a\")"), "1");
  EXPECT_EQ(J("get value(context: {a: {b: 1}}, keys: [\"a\"]) = {b: 1}"), "true");
  EXPECT_EQ(J("get value({a: 1}, [])"), "null");
  EXPECT_EQ(J("get entries({a: 1, b: 2})"),
            "[{\"key\":\"a\",\"value\":1},{\"key\":\"b\",\"value\":2}]");
  EXPECT_EQ(J("get entries(1)"), "null");
  EXPECT_EQ(J("context put({a: 1}, \"b\", 2)"), "{\"a\":1,\"b\":2}");
  EXPECT_EQ(J("context put({a: 1}, \"a\", 2)"), "{\"a\":2}");
  EXPECT_EQ(J("context put({a: {b: 1}}, [\"a\", \"c\"], 2)"), "{\"a\":{\"b\":1,\"c\":2}}");
  EXPECT_EQ(J("context put({}, [\"x\", \"y\"], 1)"), "{\"x\":{\"y\":1}}");
  EXPECT_EQ(J("context put(null, \"a\", 1)"), "null");
  EXPECT_EQ(J("context merge([{a: 1}, {b: 2}, {a: 3}])"), "{\"a\":3,\"b\":2}");
  EXPECT_EQ(J("context merge({a: 1}, {b: 2})"), "{\"a\":1,\"b\":2}");
  EXPECT_EQ(J("context merge([{a: 1}, 2])"), "null");
  EXPECT_EQ(J("context([{key: \"a\", value: 1}, {key: \"b\", value: 2}])"), "{\"a\":1,\"b\":2}");
  EXPECT_EQ(J("context([{key: \"a\", value: 1}, {key: \"a\", value: 2}])"), "null");
  EXPECT_EQ(J("context([{k: \"a\"}])"), "null");
  EXPECT_EQ(J("context({key: \"a\", value: 1})"), "{\"a\":1}");
  EXPECT_EQ(J("context put({a: 0}, [\"a\", \"b\"], 1)"), "null");
  EXPECT_EQ(J("context put(context: {a: {b: 0}}, key: [\"a\", \"b\"], value: 2)"), "null");
  EXPECT_EQ(J("context put(context: {a: {b: 0}}, keys: [\"a\", \"b\"], value: 2)"),
            "{\"a\":{\"b\":2}}");
}

TEST(TemporalFunctionsTest, All) {
  EvalOptions at;
  at.now_epoch_millis = 1704103200123;  // 2024-01-01T10:00:00.123Z
  EXPECT_EQ(J("now()", "{}", at), "\"2024-01-01T10:00:00.123Z\"");
  EXPECT_EQ(J("today()", "{}", at), "\"2024-01-01\"");
  at.time_zone = "Pacific/Auckland";
  EXPECT_EQ(J("today()", "{}", at), "\"2024-01-01\"");
  EXPECT_EQ(J("now().hour", "{}", at), "23");
  EXPECT_EQ(J("day of year(date(\"2024-12-31\"))"), "366");
  EXPECT_EQ(J("day of week(date(\"2024-01-01\"))"), "\"Monday\"");
  EXPECT_EQ(J("day of week(date and time(\"2024-01-07T10:00:00\"))"), "\"Sunday\"");
  EXPECT_EQ(J("month of year(date(\"2024-03-01\"))"), "\"March\"");
  EXPECT_EQ(J("week of year(date(\"2021-01-03\"))"), "53");
  EXPECT_EQ(J("week of year(date(\"2024-01-01\"))"), "1");
  EXPECT_EQ(J("week of year(date(\"2020-12-31\"))"), "53");
  EXPECT_EQ(J("last day of month(date(\"2024-02-10\"))"), "\"2024-02-29\"");
  EXPECT_EQ(J("last day of month(date(\"2023-02-10\"))"), "\"2023-02-28\"");
  EXPECT_EQ(J("day of year(1)"), "null");
}

TEST(RangeFunctionsTest, All) {
  EXPECT_EQ(J("before(1, 10)"), "true");
  EXPECT_EQ(J("before(10, 1)"), "false");
  EXPECT_EQ(J("before(1, [2..5])"), "true");
  EXPECT_EQ(J("before(1, (1..5])"), "true");
  EXPECT_EQ(J("before(1, [1..5])"), "false");
  EXPECT_EQ(J("before([1..5], 10)"), "true");
  EXPECT_EQ(J("before([1..5), 5)"), "true");
  EXPECT_EQ(J("before([1..5], [6..8])"), "true");
  EXPECT_EQ(J("before([1..5], [5..8])"), "false");
  EXPECT_EQ(J("before([1..5), [5..8])"), "true");
  EXPECT_EQ(J("after(10, 1)"), "true");
  EXPECT_EQ(J("after([6..8], [1..5])"), "true");
  EXPECT_EQ(J("after(5, [1..5))"), "true");
  EXPECT_EQ(J("meets([1..5], [5..8])"), "true");
  EXPECT_EQ(J("meets([1..5), [5..8])"), "false");
  EXPECT_EQ(J("met by([5..8], [1..5])"), "true");
  EXPECT_EQ(J("overlaps([1..5], [3..8])"), "true");
  EXPECT_EQ(J("overlaps([1..5], [6..8])"), "false");
  EXPECT_EQ(J("overlaps([1..5), [5..8])"), "false");
  EXPECT_EQ(J("overlaps before([1..5], [3..8])"), "true");
  EXPECT_EQ(J("overlaps before([1..5], [1..8])"), "false");
  EXPECT_EQ(J("overlaps after([3..8], [1..5])"), "true");
  EXPECT_EQ(J("finishes(5, [1..5])"), "true");
  EXPECT_EQ(J("finishes(5, [1..5))"), "false");
  EXPECT_EQ(J("finishes([3..5], [1..5])"), "true");
  EXPECT_EQ(J("finished by([1..5], 5)"), "true");
  EXPECT_EQ(J("finished by([1..5], [3..5])"), "true");
  EXPECT_EQ(J("includes([1..10], 5)"), "true");
  EXPECT_EQ(J("includes([1..10], [2..3])"), "true");
  EXPECT_EQ(J("includes((1..10], 1)"), "false");
  EXPECT_EQ(J("during(5, [1..10])"), "true");
  EXPECT_EQ(J("during([1..10], [1..10])"), "true");
  EXPECT_EQ(J("during([0..10], [1..10])"), "false");
  EXPECT_EQ(J("starts(1, [1..5])"), "true");
  EXPECT_EQ(J("starts(1, (1..5])"), "false");
  EXPECT_EQ(J("starts([1..3], [1..5])"), "true");
  EXPECT_EQ(J("started by([1..5], 1)"), "true");
  EXPECT_EQ(J("started by([1..5], [1..3])"), "true");
  EXPECT_EQ(J("coincides(5, 5)"), "true");
  EXPECT_EQ(J("coincides([1..5], [1..5])"), "true");
  EXPECT_EQ(J("coincides([1..5], (1..5])"), "false");
  EXPECT_EQ(J("before(1, \"a\")"), "null");
  EXPECT_EQ(J("includes(range: [1..10], point: 3)"), "true");
  EXPECT_EQ(J("before(point1: 1, point2: 2)"), "true");
  EXPECT_EQ(J("includes(> 5, 7)"), "true");
  EXPECT_EQ(J("before(< 5, 7)"), "true");
  EXPECT_EQ(J("before(@\"2024-01-01\", [@\"2024-02-01\"..@\"2024-03-01\"])"), "true");
  EXPECT_EQ(J("range(\"[1..10)\")"), "\"[1..10)\"");
  EXPECT_EQ(J("5 in range(\"[1..10)\")"), "true");
  EXPECT_EQ(J("range(\"x\")"), "null");
  EXPECT_EQ(J("range(\" [ 1 .. 3 ] \") = [1..3]"), "true");
  EXPECT_EQ(J("range(\"[3..1]\")"), "null");
  EXPECT_EQ(J("range(\"[date(string(\\\"1970-01-01\\\"))..date(\\\"1970-01-02\\\")]\")"), "null");
  EXPECT_EQ(J("range(\"[@\\\"P1D\\\"..@\\\"P2D\\\"]\") = [@\"P1D\"..@\"P2D\"]"), "true");
  EXPECT_EQ(J("round up(5.5, 6176)"), "5.5");
  EXPECT_EQ(J("decimal(1/3, 2.5)"), "0.33");
}

TEST(BuiltinRegistryTest, NamesCoverTheSpec) {
  std::vector<std::string> names = BuiltinFunctionNames();
  for (const char* required : {"abs",
                               "after",
                               "all",
                               "any",
                               "append",
                               "before",
                               "ceiling",
                               "coincides",
                               "concatenate",
                               "contains",
                               "context",
                               "context merge",
                               "context put",
                               "count",
                               "date",
                               "date and time",
                               "day of week",
                               "day of year",
                               "decimal",
                               "distinct values",
                               "duplicate values",
                               "during",
                               "duration",
                               "ends with",
                               "even",
                               "exp",
                               "extract",
                               "finished by",
                               "finishes",
                               "flatten",
                               "floor",
                               "from base64",
                               "get entries",
                               "get or else",
                               "get value",
                               "includes",
                               "index of",
                               "insert before",
                               "is",
                               "is blank",
                               "is defined",
                               "is empty",
                               "last day of month",
                               "list contains",
                               "log",
                               "lower case",
                               "matches",
                               "max",
                               "mean",
                               "median",
                               "meets",
                               "met by",
                               "min",
                               "mode",
                               "modulo",
                               "month of year",
                               "not",
                               "now",
                               "number",
                               "odd",
                               "overlaps",
                               "overlaps after",
                               "overlaps before",
                               "partition",
                               "product",
                               "random number",
                               "range",
                               "remove",
                               "replace",
                               "reverse",
                               "round down",
                               "round half down",
                               "round half up",
                               "round up",
                               "sort",
                               "split",
                               "sqrt",
                               "started by",
                               "starts",
                               "starts with",
                               "stddev",
                               "string",
                               "string join",
                               "string length",
                               "sublist",
                               "substring",
                               "substring after",
                               "substring before",
                               "sum",
                               "time",
                               "to base64",
                               "today",
                               "trim",
                               "union",
                               "upper case",
                               "uuid",
                               "week of year",
                               "years and months duration"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), required), names.end()) << required;
  }
}

}  // namespace
}  // namespace tern::feel::testing
