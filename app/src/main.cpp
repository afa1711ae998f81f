#include "app.hpp"

int main(int argc, char** argv) {
  return todo::run_app(argc, argv);
}
