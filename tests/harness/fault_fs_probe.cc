// A process for testing the fault file layer's power cut (fault_fs_preload.cc): in directory
// argv[1]/a it makes one file-system change of each kind the library models, some made
// durable and some not, then one fully durable change in argv[1]/b, prints "ready", and
// sleeps until killed.
// tests/integration/power_cut_test.cc checks what is left after a cut and after a plain
// kill -9. Any failed call exits 2, naming it.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

std::string g_dir;  // argv[1]/a

void Check(bool ok, const char* what) {
  if (ok) return;
  fprintf(stderr, "fault_fs_probe: %s failed: %s\n", what, strerror(errno));
  exit(2);
}

std::string At(const char* name) { return g_dir + "/" + name; }

int Create(const char* name) {
  const int fd = open(At(name).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  Check(fd >= 0, name);
  return fd;
}

void Write(int fd, const char* text) { Check(write(fd, text, strlen(text)) == ssize_t(strlen(text)), "write"); }

void SyncDir(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  Check(fd >= 0 && fsync(fd) == 0, "fsync directory");
  close(fd);
}

// A file with `text`, synced, its directory entry synced.
void Durable(const char* name, const char* text) {
  const int fd = Create(name);
  Write(fd, text);
  Check(fsync(fd) == 0, "fsync");
  close(fd);
  SyncDir(g_dir);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: fault_fs_probe DIR\n");
    return 2;
  }
  const std::string root = argv[1];
  g_dir = root + "/a";
  Check(mkdir(g_dir.c_str(), 0755) == 0 && mkdir((root + "/b").c_str(), 0755) == 0, "mkdir a, b");
  SyncDir(root);
  Durable("overwritten", "AAAA");
  Durable("renamed_from", "R");
  Durable("replaced", "old");
  Durable("unlinked", "U");
  Durable("truncated", "12345678");

  int fd = open(At("overwritten").c_str(), O_WRONLY);
  Check(fd >= 0 && pwrite(fd, "BB", 2, 1) == 2, "pwrite");  // overwrite in the synced part
  Check(lseek(fd, 0, SEEK_END) == 4, "lseek");
  Write(fd, "CCCC");                                         // and append; never synced
  close(fd);

  fd = Create("synced_file_unsynced_entry");  // content synced, directory entry not
  Write(fd, "x");
  Check(fdatasync(fd) == 0, "fdatasync");
  close(fd);

  Check(rename(At("renamed_from").c_str(), At("renamed_to").c_str()) == 0, "rename");
  fd = Create("replacement");
  Write(fd, "new");
  Check(fsync(fd) == 0, "fsync replacement");
  close(fd);
  Check(rename(At("replacement").c_str(), At("replaced").c_str()) == 0, "rename over");
  Check(unlink(At("unlinked").c_str()) == 0, "unlink");

  fd = open(At("truncated").c_str(), O_WRONLY);
  Check(fd >= 0 && ftruncate(fd, 2) == 0, "ftruncate");
  Check(pwrite(fd, "zz", 2, 2) == 2, "pwrite after truncate");
  close(fd);

  // A new directory whose own entries are synced, but not its entry in the parent.
  Check(mkdir(At("subdir").c_str(), 0755) == 0, "mkdir");
  fd = open(At("subdir/inner").c_str(), O_WRONLY | O_CREAT, 0644);
  Check(fd >= 0, "create subdir/inner");
  Write(fd, "in");
  Check(fsync(fd) == 0, "fsync inner");
  close(fd);
  SyncDir(At("subdir"));

  // Last, a change in another directory made fully durable: it must survive.
  fd = open((root + "/b/later").c_str(), O_WRONLY | O_CREAT, 0644);
  Check(fd >= 0, "create b/later");
  Write(fd, "L");
  Check(fsync(fd) == 0, "fsync later");
  close(fd);
  SyncDir(root + "/b");

  printf("ready\n");
  fflush(stdout);
  for (;;) pause();
}
