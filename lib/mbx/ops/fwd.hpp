#pragma once
// The types of the libraries below ops that the ops headers a tool reads name only by reference
// or pointer, declared once here. A tool never sees those libraries' own headers (the facade,
// lib/CMakeLists.txt), so it can only pass these on, never look inside.

namespace mbx::journal {
class Journal;
struct ActionRecord;
} // namespace mbx::journal

namespace mbx::directory {
class Directory;
struct Entry;
} // namespace mbx::directory

namespace mbx::imap {
struct FetchItem;
struct ListEntry;
struct Namespaces;
} // namespace mbx::imap

namespace mbx::http {
struct Request;
struct Response;
} // namespace mbx::http
