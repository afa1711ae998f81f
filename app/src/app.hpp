#pragma once

namespace todo {

// The whole program behind main(): parses the command line, builds the role and serves.
// Exit codes: 0 after a clean shutdown, 1 when the server cannot run, 2 for usage errors.
int run_app(int argc, char** argv);

}  // namespace todo
