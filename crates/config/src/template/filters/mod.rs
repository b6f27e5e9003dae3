//! Ansible's filters (the ones roles use), registered on a minijinja environment.
mod data;
mod hash;
mod json;
mod lists;
mod net;
mod path;
mod regex_filters;
mod text;
mod yaml_emit;

pub use json::python_json;
pub use yaml_emit::python_yaml;

use minijinja::{Environment, Error, ErrorKind};

pub fn register(env: &mut Environment<'static>) {
    // data
    env.add_filter("to_json", data::to_json);
    env.add_filter("to_nice_json", data::to_nice_json);
    env.add_filter("from_json", data::from_json);
    env.add_filter("to_yaml", data::to_yaml);
    env.add_filter("to_nice_yaml", data::to_nice_yaml);
    env.add_filter("from_yaml", data::from_yaml);
    env.add_filter("combine", data::combine);
    env.add_filter("dict2items", data::dict2items);
    env.add_filter("items2dict", data::items2dict);
    env.add_filter("ternary", data::ternary);
    env.add_filter("bool", data::to_bool);
    env.add_filter("string", data::string);
    env.add_filter("type_debug", data::type_debug);
    env.add_filter("mandatory", data::mandatory);
    env.add_filter("extract", data::extract);
    // lists
    env.add_filter("unique", lists::unique);
    env.add_filter("union", lists::union);
    env.add_filter("intersect", lists::intersect);
    env.add_filter("difference", lists::difference);
    env.add_filter("symmetric_difference", lists::symmetric_difference);
    env.add_filter("flatten", lists::flatten);
    env.add_filter("subelements", lists::subelements);
    env.add_filter("zip_longest", lists::zip_longest);
    // text
    env.add_filter("regex_replace", regex_filters::regex_replace);
    env.add_filter("regex_search", regex_filters::regex_search);
    env.add_filter("regex_findall", regex_filters::regex_findall);
    env.add_filter("regex_escape", regex_filters::regex_escape);
    env.add_filter("quote", text::quote);
    env.add_filter("comment", text::comment);
    env.add_filter("b64encode", text::b64encode);
    env.add_filter("b64decode", text::b64decode);
    // hashes
    env.add_filter("hash", hash::hash);
    env.add_filter("checksum", hash::sha1);
    env.add_filter("sha1", hash::sha1);
    env.add_filter("md5", hash::md5);
    env.add_filter("password_hash", hash::password_hash);
    // paths
    env.add_filter("basename", path::basename);
    env.add_filter("dirname", path::dirname);
    env.add_filter("expanduser", path::expanduser);
    env.add_filter("splitext", path::splitext);
    env.add_filter("realpath", path::realpath);
    env.add_filter("path_join", path::path_join);
    // networks (ansible.utils.ipaddr and friends)
    env.add_filter("ipaddr", net::ipaddr);
    env.add_filter("ipv4", net::ipv4);
    env.add_filter("ipv6", net::ipv6);
    env.add_filter("ipmath", net::ipmath);
    env.add_filter("ipsubnet", net::ipsubnet);
}

pub(crate) fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// A minijinja value as JSON data.
pub(crate) fn to_data(v: &minijinja::Value) -> Result<serde_json::Value, Error> {
    serde_json::to_value(v).map_err(|e| invalid(format!("cannot convert value: {e}")))
}

/// The text of a value as Python's str() would give it.
pub(crate) fn text_of(v: &minijinja::Value) -> String {
    super::format::python_str(v)
}

/// For sibling modules (tests): Python str() of a value.
pub(crate) fn text_of_pub(v: &minijinja::Value) -> String {
    text_of(v)
}
