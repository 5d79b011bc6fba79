from fabcom.cli import main

main()
