from pipeline.cli import main

# Guarded: process-pool workers (forkserver) import __main__ and must not run the CLI.
if __name__ == "__main__":
    main()
