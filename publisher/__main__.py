from .commands.entry import main

main()
